"""Copies of the bundled course for tests that need a different (or broken) one."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import ROOT


def course_copy(dest: Path) -> Path:
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def broken_course(dest: Path, how: str = "missing") -> Path:
    """A course whose grader file is missing or fails at import: the engine, not the student, fails."""
    course_copy(dest)
    grader = dest / "graders" / "test_stability.py"
    if how == "missing":
        grader.unlink()
    else:
        grader.write_text(grader.read_text() + "\nraise RuntimeError('a bug in the grader')\n")
    return dest
