"""Reuse one call of student code across the checks of an exercise (a training run, made once).

A grader declares `runs` as a module-scoped fixture, so the calls it remembers live for one
grading run of one submission; each key holds the function's name and its arguments as plain
data, so a check of one exercise can never receive another exercise's result.
"""

from __future__ import annotations

from typing import Any

from dlgrade.core import codec
from dlgrade.core.calls import Call, StudentError
from dlgrade.engine.student import StudentModule


class Runs:
    """Calls already made in this grading run, with what they returned or raised."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, bytes], Call | StudentError] = {}

    def call(self, student: StudentModule, fn: str, *args: Any, **kwargs: Any) -> Call:
        """`student.call(fn, *args, **kwargs)`, made only the first time these arguments are seen."""
        key = (fn, codec.encode([list(args), kwargs]))
        if key not in self._done:
            try:
                self._done[key] = student.call(fn, *args, **kwargs)
            except StudentError as exc:
                self._done[key] = exc
        done = self._done[key]
        if isinstance(done, StudentError):
            raise done
        return done

    def __len__(self) -> int:
        return len(self._done)
