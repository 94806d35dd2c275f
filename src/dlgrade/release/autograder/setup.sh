#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu).
# `grade gradescope build autograder.zip` writes the zip: this file, run_autograder, the course
# (course.toml, exercises/, graders/, reference/), the grading engine as a wheel (wheels/) and
# requirements.txt (the engine, and torch pinned to the version it was built with).
set -euo pipefail

AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3.11}"
SOURCE="$AUTOGRADER_ROOT/source"
VENV="$AUTOGRADER_ROOT/venv"
TORCH_INDEX="${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"  # the image has no GPU

if ! command -v "$PYTHON" >/dev/null; then
    apt-get update
    apt-get install -y "$PYTHON" "$PYTHON-venv"
fi
"$PYTHON" -m venv "$VENV"
cd "$SOURCE"  # requirements.txt names ./wheels/...
if [ -f .dlgrade-secret ]; then chmod 600 .dlgrade-secret; fi  # the course secret: root reads it, workers never
"$VENV/bin/python" -m pip install --extra-index-url "$TORCH_INDEX" -r requirements.txt

# Fail the image build now, not at the first submission, if the course does not load.
"$VENV/bin/grade" list
