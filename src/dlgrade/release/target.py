"""Where a bundle may be written: refused before anything is built (and before the engine,
which imports torch, is loaded: `grade release` into a wrong folder answers at once)."""

from __future__ import annotations

from pathlib import Path

from dlgrade.core.manifest import Course
from dlgrade.engine.bundle import is_bundle


class ReleaseError(Exception):
    """The bundle cannot be built; the message is one line."""


class OutputExists(ReleaseError):
    """OUT_DIR holds files and --force was not given."""


def check_target(course: Course, out_dir: Path, force: bool) -> Path:
    """`out_dir`, resolved, if a bundle of `course` may be written there; else ReleaseError."""
    out_dir = out_dir.expanduser().resolve()
    if is_bundle(course.root):
        raise ReleaseError("this is a student bundle; release from the course's own repository")
    if out_dir == course.root or out_dir in course.root.parents:
        raise OutputExists(f"{out_dir} holds the course itself; choose a new folder for the bundle")
    if not out_dir.parent.is_dir():
        raise OutputExists(f"cannot write {out_dir}: folder {out_dir.parent} does not exist")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExists(f"{out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise OutputExists(f"{out_dir} is not empty; pass --force to replace it")
    return out_dir
