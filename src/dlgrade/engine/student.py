"""The student's functions as graders see them: calls into the sandbox that return plain data.

`student.stable_softmax(x, dim=0)` runs the student's function in the exercise's worker and
returns its result; anything other than a normal return becomes a `StudentError` whose class
is the check's outcome (dlgrade.core.calls).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dlgrade.core.calls import Answers, Call, Request
from dlgrade.engine.exercise_sandbox import ExerciseSandbox


class StudentModule(Answers):
    """`student.fn(*args)` calls the student's `fn`; `student.call(...)` and `.grad(...)` say more."""

    def __init__(self, box: ExerciseSandbox) -> None:
        self._box = box

    def __getattr__(self, fn: str) -> Any:
        if fn.startswith("_"):
            raise AttributeError(fn)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._box.call(fn, args, kwargs).value

        return call

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Call:
        """Call `fn` and return the value together with the inputs as they were afterwards."""
        return self._box.call(fn, args, kwargs)

    def calls(self, fn: str, requests: Sequence[Request]) -> Iterator[Call]:
        """`fn` on each request in turn, sent together (faster, same verdicts as one by one)."""
        return self._box.calls(fn, requests)

    def gradient(self, fn: str, request: Request) -> Call:
        r = request
        return self._box.call(fn, r.args, r.kwargs, wrt=r.wrt, grad_output=r.grad_output, output=r.output)
