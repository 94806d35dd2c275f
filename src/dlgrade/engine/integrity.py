"""Digests of the course files the grading process executes, taken before and after grading.

The grading process imports the graders and the model solutions before any student code runs;
the digests make sure that nothing changed them while a submission was graded (kernel
containment already keeps workers from writing there: this is the check that it held).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dlgrade.core.manifest import MANIFEST_NAME, Course


def course_files(course: Course) -> list[Path]:
    """The manifest, the graders, the model solutions and the known mistakes (every .py below
    their folders)."""
    files = [course.root / MANIFEST_NAME]
    for folder in (course.graders_dir(), course.reference_dir(), course.mistakes_dir()):
        if folder.is_dir():
            files.extend(sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts))
    return files


def digests(course: Course) -> dict[str, str]:
    """path -> SHA-256 of each course file ('' for one that cannot be read)."""
    out: dict[str, str] = {}
    for path in course_files(course):
        try:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[str(path)] = ""
    return out


def changes(course: Course, before: dict[str, str]) -> str:
    """One line naming the course files added, removed or changed since `before`; "" if none."""
    after = digests(course)
    changed = sorted(set(before) ^ set(after) | {p for p in before if after.get(p, before[p]) != before[p]})
    if not changed:
        return ""
    shown = ", ".join(Path(p).relative_to(course.root).as_posix() for p in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return f"course files changed while this submission was graded: {shown}{more}"
