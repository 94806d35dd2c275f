"""The container image: built and run for real where docker or podman can build, with the
network off and a non-root user; otherwise skipped with the reason. The Dockerfile's shape is
checked everywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.release.gradescope import COURSE_PARTS
from tests.support import ROOT, reference_copy

IMAGE = "dlgrade-test:latest"


def test_the_dockerfile_installs_cpu_torch_the_course_and_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "download.pytorch.org/whl/cpu" in text and "-c constraints.txt" in text
    for part in COURSE_PARTS:
        assert f"COPY {part} /course/{part}" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root"))
    assert "--network none" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "**/__pycache__" in ignored


def _engine() -> str:
    """docker or podman, able to build here; skips with the reason otherwise."""
    for tool in ("docker", "podman"):
        exe = shutil.which(tool)
        if exe is None:
            continue
        info = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=60)
        if info.returncode == 0:
            return exe
        reason = (info.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"{tool} is installed but cannot run containers here: {reason}")
    pytest.skip("neither docker nor podman is installed")


@pytest.fixture(scope="module")
def image() -> str:
    exe = _engine()
    built = subprocess.run(
        [exe, "build", "-t", IMAGE, str(ROOT)], capture_output=True, text=True, timeout=1800
    )
    if built.returncode != 0:
        last = (built.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"{Path(exe).name} build failed (no network for the base image or PyPI?): {last}")
    return exe


@pytest.mark.slow
def test_the_image_grades_a_mounted_submission_without_network(image: str, course: Course, tmp_path) -> None:
    submission = reference_copy(course, tmp_path / "submission")
    results = tmp_path / "results"
    results.mkdir()
    os.chmod(results, 0o777)  # the image's user (uid 10001) writes here
    run = [image, "run", "--rm", "--network", "none"]
    mounts = ["-v", f"{submission}:/submission:ro", "-v", f"{results}:/results"]
    done = subprocess.run([*run, *mounts, IMAGE], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads((results / "result.json").read_text())
    assert result["score"] == result["max_score"] == sum(t.points for t in course.topics)
    whoami = subprocess.run([*run, "--entrypoint", "id", IMAGE, "-u"], capture_output=True, text=True)
    assert whoami.stdout.strip() == "10001"
