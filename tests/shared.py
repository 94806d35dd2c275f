"""Graded results shared by a whole test session instead of graded again by each test.

Grading the model solutions is the suite's most repeated work: the fairness tests, the pinned
model solutions and the release tests each graded the whole course. `Shared.get(key, make)`
computes a value once per session, in whichever pytest process asks first (pytest-xdist runs
several), and the others read it back: a pickle beside a lock file in the session's temporary
folder. Share only what no test changes: results of the unchanged course and its model
solutions, never of a folder a test builds or a course it patches.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.runner import grade
from dlgrade.release.build import build_release
from tests.recording import Recording, record

T = TypeVar("T")


class Shared:
    """Values computed once per test session (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.memory: dict[str, Any] = {}

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[Path]:
        with (self.folder / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits for the first's result
            yield self.folder / f"{key}.pickle"

    def get(self, key: str, make: Callable[[], T]) -> T:
        if key not in self.memory:
            with self._locked(key) as path:
                if path.exists():
                    value = pickle.loads(path.read_bytes())
                else:
                    value = make()
                    with contextlib.suppress(pickle.PicklingError, TypeError, AttributeError):
                        part = path.with_suffix(".part")
                        part.write_bytes(pickle.dumps(value))
                        part.replace(path)  # whole or absent: never half a pickle
            self.memory[key] = value
        return self.memory[key]  # type: ignore[no-any-return]

    def reference(self, course: Course) -> GradeResult:
        """The whole course's model solutions, graded as `grade` grades them."""
        return self.get(f"reference-{_tag(course)}", lambda: grade(course, course.reference_dir()))

    def recording(self, course: Course, topic: str) -> Recording:
        """One topic's model solutions graded with every check's inputs recorded."""
        key = f"recording-{_tag(course)}-{topic}"
        return self.get(key, lambda: record(course, course.reference_dir(), topic))

    def bundle(self, course: Course) -> Path:
        """The course's student bundle (`grade release`), built once a session. Read it only:
        a test that changes a bundle, or runs a command in it, works on a copy."""
        folder = self.folder / f"bundle-{_tag(course)}"
        return self.get(f"bundle-{_tag(course)}", lambda: build_release(course, folder))


def _tag(course: Course) -> str:
    return hashlib.sha256(str(course.root.resolve()).encode()).hexdigest()[:12]
