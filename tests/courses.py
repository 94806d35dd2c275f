"""Copies of the bundled course for tests that need a different (or broken) one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support import ROOT


def course_copy(dest: Path) -> Path:
    for name in ("course.toml", "exercises", "reference", "graders", "mistakes"):
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


def without_static_refusals(dest: Path) -> Path:
    """A copy of the course whose static rules refuse less: no allow-lists and no refusal of
    hidden routes (built names, raw memory, threads). For the tests of the layers below them
    (the wire, the zygote, the kernel), whose hostile fixtures the static rules would otherwise
    stop before any of their code runs; every other rule, and every run-time layer, stays."""
    course_copy(dest)
    toml = dest / "course.toml"
    lines = toml.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("allowed = [")]
    text = "".join(kept).replace(
        'syntax = ["names_in_strings", "hidden_routes"]', 'syntax = ["names_in_strings"]'
    )
    assert 'syntax = ["names_in_strings"]\n' in text, "the sandbox rule set's syntax line moved"
    toml.write_text(text)
    return dest


def with_time_limit(dest: Path, exercise: str, seconds: float) -> Path:
    """A copy of the course whose `exercise` alone has a time limit of `seconds`: for tests of
    what a hang or a timeout does, which do not depend on the limit's size (each waits it out)."""
    dest.mkdir(parents=True, exist_ok=True)
    course_copy(dest)
    toml = dest / "course.toml"
    pattern = rf'(?ms)^(id = "{exercise}"\n(?:(?!\[\[).)*?^time_limit = )[0-9.]+$'
    text, found = re.subn(pattern, rf"\g<1>{seconds}", toml.read_text(), count=1)
    assert found == 1, f"no time_limit line in {exercise}'s entry of course.toml"
    toml.write_text(text)
    return dest
