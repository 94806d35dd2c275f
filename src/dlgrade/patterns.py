"""Reusable check bodies: agreement with the reference, untouched inputs, matching gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import torch

from dlgrade.cases import Case, randn, seed_for
from dlgrade.checks import expect_close, expect_tensor, expect_unmodified, fail
from dlgrade.student import StudentModule


def agree(
    student: StudentModule, reference: ModuleType, fn: str, cases: Iterable[Case], **tolerances: Any
) -> None:
    """The student's `fn` returns what the reference returns on every case."""
    ref: Callable[..., Any] = getattr(reference, fn)
    for case in cases:
        got = getattr(student, fn)(*case.args, **case.kwargs)
        expect_close(got, ref(*case.args, **case.kwargs), case=case.label, **tolerances)


def unmodified(
    student: StudentModule, reference: ModuleType, fn: str, cases: Iterable[Case], **tolerances: Any
) -> None:
    """Right values without changing any argument in place (a wrong answer earns nothing here)."""
    ref: Callable[..., Any] = getattr(reference, fn)
    for case in cases:
        call = student.call(fn, *case.args, **case.kwargs)
        expect_close(call.value, ref(*case.args, **case.kwargs), case=case.label, **tolerances)
        expect_unmodified(case.args, call.args_after, case=case.label)
        expect_unmodified(
            list(case.kwargs.values()),
            [call.kwargs_after.get(k) for k in case.kwargs],
            case=case.label,
            names=[f"argument {k}" for k in case.kwargs],
        )


def same_gradient(
    student: StudentModule,
    reference: ModuleType,
    fn: str,
    cases: Iterable[Case],
    wrt: tuple[int, ...] = (0,),
    **tolerances: Any,
) -> None:
    """Autograd through the student's `fn` gives the reference's gradient for each `wrt` input."""
    ref: Callable[..., Any] = getattr(reference, fn)
    for n, case in enumerate(cases):
        leaves = [
            a.detach().clone().requires_grad_(i in wrt) if isinstance(a, torch.Tensor) else a
            for i, a in enumerate(case.args)
        ]
        expected_out = ref(*leaves, **case.kwargs)
        g = randn(
            expected_out.shape,
            seed=seed_for(fn, "grad", n),
            dtype=expected_out.dtype,
            device=expected_out.device,
        )
        # sum(out * g) rather than grad_outputs=g: the same product, without a slow lazy import.
        expected = torch.autograd.grad((expected_out * g).sum(), [leaves[i] for i in wrt])
        call = student.grad(fn, *case.args, wrt=wrt, grad_output=g, **case.kwargs)
        expect_tensor(call.value, case=case.label)
        if call.detached:
            fail(
                f"{case.label}: the result is cut off from autograd (no gradient reaches the "
                "input; look for .detach(), .item(), .numpy(), torch.no_grad or a new tensor)",
                "the result is cut off from autograd",
            )
        if call.grad_error:
            fail(
                f"{case.label}: backpropagating through the result failed: {call.grad_error}",
                "backpropagating through the result failed",
            )
        for i, got, exp in zip(wrt, call.grads, expected, strict=True):
            if got is None:
                fail(
                    f"{case.label}: no gradient reaches argument {i + 1}",
                    "the gradient does not reach an input",
                )
            expect_close(got, exp, case=case.label, what=f"the gradient of argument {i + 1}", **tolerances)
