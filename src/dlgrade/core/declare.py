"""Declaring graded checks and the failures they raise: points, visibility, which failures a hint is about."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])

# What a failure is about. A check's hint is shown only for the kinds it names (`hint_when`),
# by default for every kind but "upstream" (a backward judged on a forward that is wrong).
KINDS = (
    "value",  # finite values differ
    "nonfinite",  # NaN or infinity where the answer is finite
    "shape",
    "dtype",
    "device",
    "type",  # not a tensor, a tuple of the wrong length, not a number
    "modified",  # an input was changed in place
    "gradient",  # no gradient reaches an input, or backpropagating failed
    "upstream",  # graded on the student's own earlier step, which is wrong on the same case
    "raised",  # the student's function raised (only hints that name it are shown then)
)
HINT_KINDS_DEFAULT = tuple(k for k in KINDS if k not in ("upstream", "raised"))


class CheckFailure(AssertionError):
    """A check found a wrong answer. `public` teaches; `hidden` names only the property;
    `kind` (one of KINDS) says what went wrong, so that only a hint about it is shown."""

    def __init__(self, public: str, hidden: str, kind: str = "value") -> None:
        super().__init__(public)
        if kind not in KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        self.public = public
        self.hidden = hidden
        self.kind = kind


class GraderMistake(Exception):
    """A grader called a kit helper wrongly (the course author's mistake, not the student's):
    its message is one line naming the helper, what it got and what it takes, so the engine
    reports it as that line, not as a traceback."""


def check(
    exercise: str,
    name: str,
    *,
    points: float = 1.0,
    hidden: bool = False,
    hint: str = "",
    hint_when: Sequence[str] = HINT_KINDS_DEFAULT,
) -> Callable[[F], F]:
    """Declare a pytest test as a graded check of `exercise` worth `points` (a relative weight).

    The hint is shown when the check fails with a wrong answer of a kind in `hint_when`
    (see KINDS): a hint about in-place changes names ("modified",), one about overflow
    ("nonfinite",). A time-out or a forbidden call never shows it; an exception of the
    student's function only where `hint_when` names "raised" (a dtype mix-up, say).
    """
    return _mark(exercise, name, points=points, hidden=hidden, hint=hint, hint_when=hint_when)


def _mark(
    exercise: str, name: str, *, points: float, hidden: bool, hint: str, hint_when: Sequence[str]
) -> pytest.MarkDecorator:
    if points <= 0:
        raise ValueError("a check's points must be positive")
    unknown = set(hint_when) - set(KINDS)
    if unknown or not hint_when:
        raise ValueError(f"hint_when must name kinds from {KINDS}; got {tuple(hint_when)}")
    return pytest.mark.dlgrade(
        exercise=exercise, name=name, points=points, hidden=hidden, hint=hint, hint_when=tuple(hint_when)
    )


def check_each(
    exercises: Iterable[str],
    name: str,
    *,
    points: float = 1.0,
    hidden: bool = False,
    hint: str = "",
    hint_when: Sequence[str] = HINT_KINDS_DEFAULT,
) -> Callable[[F], F]:
    """One check per exercise from one test body, which takes the exercise id as `fn`."""
    return pytest.mark.parametrize(
        "fn",
        [
            pytest.param(
                e,
                marks=_mark(e, name, points=points, hidden=hidden, hint=hint, hint_when=hint_when),
                id=e,
            )
            for e in exercises
        ],
    )


def fail(public: str, hidden: str, kind: str = "value") -> NoReturn:
    raise CheckFailure(public, hidden, kind)
