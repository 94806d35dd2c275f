"""Find the exercise modules a `--submission` argument points at."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlgrade.manifest import Course

REFERENCE = "reference"


class SubmissionError(ValueError):
    """The submission argument names nothing gradable; the message is one line."""


@dataclass(frozen=True)
class Submission:
    folder: Path  # holds the exercise modules (stability.py, ...)
    label: str  # how reports name it


def resolve_submission(course: Course, spec: str | None) -> Submission:
    """None: the course's exercises/; 'reference': the model solutions; else a folder.

    A folder is either one holding exercise modules or a course root with `exercises/`.
    (Zip files written by `grade package` are opened by `archive.open_submission`.)
    """
    if spec is None:
        return Submission(course.exercises_dir(), "exercises/")
    if spec == REFERENCE:
        if not course.reference_dir().is_dir():
            raise SubmissionError("this course has no model solutions (reference/); bundles have none")
        return Submission(course.reference_dir(), REFERENCE)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SubmissionError(f"submission {spec!r} does not exist")
    if path.is_file():
        raise SubmissionError(
            f"submission {spec!r} is a file; give a folder of exercise modules, "
            "a course folder, or a zip written by `grade package`"
        )
    if (path / "exercises").is_dir() and not _has_modules(path, course):
        return Submission(path / "exercises", spec)
    if not _has_modules(path, course):
        names = ", ".join(f"{m}.py" for m in course.modules)
        raise SubmissionError(f"submission {spec!r} holds none of the exercise modules ({names})")
    return Submission(path, spec)


def _has_modules(folder: Path, course: Course) -> bool:
    return any((folder / f"{m}.py").is_file() for m in course.modules)


@contextlib.contextmanager
def open_submission(course: Course, spec: str | None) -> Iterator[Submission]:
    """The submission's folder for as long as grading needs it."""
    yield resolve_submission(course, spec)
