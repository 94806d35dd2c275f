#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu).
# The autograder zip holds this file, run_autograder and the course: course.toml, graders/,
# reference/, exercises/ and the dlgrade project (pyproject.toml, src/). See docs/ci.md.
set -euo pipefail

AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3.11}"
SOURCE="$AUTOGRADER_ROOT/source"
VENV="$AUTOGRADER_ROOT/venv"

if ! command -v "$PYTHON" >/dev/null; then
    apt-get update
    apt-get install -y "$PYTHON" "$PYTHON-venv"
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# The CPU build of torch: the grading image has no GPU.
"$VENV/bin/python" -m pip install --extra-index-url https://download.pytorch.org/whl/cpu "$SOURCE"

# Fail the image build now, not at the first submission, if the course does not load.
cd "$SOURCE"
"$VENV/bin/grade" list
