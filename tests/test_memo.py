"""dlgrade.kit.memo.Runs: one student call per distinct argument list, errors remembered too."""

from __future__ import annotations

import pytest
import torch

from dlgrade.core.calls import Call, NotStarted
from dlgrade.kit.memo import Runs


class CountingStudent:
    """Stands in for a StudentModule: counts calls, raises for a negative seed."""

    def __init__(self) -> None:
        self.calls = 0

    def call(self, fn: str, *args, **kwargs) -> Call:
        self.calls += 1
        if kwargs.get("seed", 0) < 0:
            raise NotStarted(fn, "xor.py:1")
        return Call(value=(fn, self.calls), args_after=args, kwargs_after=kwargs)


def test_same_arguments_are_called_once() -> None:
    runs, student = Runs(), CountingStudent()
    x = torch.ones(4, 2)
    first = runs.call(student, "train_xor_mlp", x, torch.zeros(4), seed=0)  # type: ignore[arg-type]
    again = runs.call(student, "train_xor_mlp", x.clone(), torch.zeros(4), seed=0)  # type: ignore[arg-type]
    assert first is again and student.calls == 1
    runs.call(student, "train_xor_mlp", x, torch.zeros(4), seed=1)  # type: ignore[arg-type]
    runs.call(student, "train_xor_linear", x, torch.zeros(4), seed=0)  # type: ignore[arg-type]
    runs.call(student, "train_xor_mlp", x.double(), torch.zeros(4), seed=0)  # type: ignore[arg-type]
    assert student.calls == 4 and len(runs) == 4


def test_an_error_is_raised_again_without_a_new_call() -> None:
    runs, student = Runs(), CountingStudent()
    for _ in range(2):
        with pytest.raises(NotStarted):
            runs.call(student, "train_xor_mlp", torch.ones(1), seed=-1)  # type: ignore[arg-type]
    assert student.calls == 1
