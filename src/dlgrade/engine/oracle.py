"""The expected side of every check: the model solutions, called directly or through autograd.

Graders get every expected value from this object (the `reference` fixture), never by
running other code of their own on the model solutions' outputs. That keeps the expected
side in one place: a release bundle, which ships no model solutions, swaps in recorded
answers behind the same two calls.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import torch

from dlgrade.core.calls import Answers, Call, Request


def select_output(value: Any, output: int | None) -> Any:
    """`value`, or its `output`-th item when the function returns a tuple (out, cache)."""
    if output is None:
        return value
    if not isinstance(value, tuple | list) or not -len(value) <= output < len(value):
        return None
    return value[output]


class Oracle(Answers):
    """`reference.fn(*args)` calls the model solution; `reference.grad(...)` backpropagates."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._module, name)

    def gradient(self, fn: str, request: Request) -> Call:
        """Like the student's: gradients of sum(result * grad_output) for `args[i]`, i in wrt."""
        args, kwargs, wrt = request.args, request.kwargs, request.wrt
        leaves = [
            a.detach().clone().requires_grad_(i in wrt) if isinstance(a, torch.Tensor) else a
            for i, a in enumerate(args)
        ]
        value = getattr(self._module, fn)(*leaves, **kwargs)
        out = select_output(value, request.output)
        g = request.grad_output
        target = out.sum() if g is None else (out * g).sum()
        grads = torch.autograd.grad(target, [leaves[i] for i in wrt], allow_unused=True)
        return Call(value=value, args_after=tuple(leaves), kwargs_after=kwargs, grads=tuple(grads))
