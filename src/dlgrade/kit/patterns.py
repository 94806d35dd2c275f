"""Reusable check bodies: agreement with the reference, untouched inputs, matching gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dlgrade.core.calls import Request
from dlgrade.engine.oracle import Oracle, select_output
from dlgrade.engine.student import StudentModule
from dlgrade.kit.cases import Case, randn, seed_for
from dlgrade.kit.checks import expect_close, expect_layout, expect_matching, expect_unmodified, fail


def agree(
    student: StudentModule, reference: Oracle, fn: str, cases: Iterable[Case], **tolerances: Any
) -> None:
    """The student's `fn` returns what the reference returns on every case (a tensor or a
    tuple of them; `names=(...)` names a tuple's items in messages)."""
    cases = list(cases)
    for case, got in zip(cases, student.calls(fn, [Request(c.args, c.kwargs) for c in cases]), strict=False):
        expected = getattr(reference, fn)(*case.args, **case.kwargs)
        expect_matching(got.value, expected, case=case.label, **tolerances)


def unmodified(
    student: StudentModule,
    reference: Oracle,
    fn: str,
    cases: Iterable[Case],
    *,
    arg_names: tuple[str, ...] = (),
    **tolerances: Any,
) -> None:
    """Right values without changing any argument in place (a wrong answer earns nothing here).

    `arg_names` names the positional arguments in messages; `names=` names a tuple result's items.
    """
    cases = list(cases)
    for case, call in zip(cases, student.calls(fn, [Request(c.args, c.kwargs) for c in cases]), strict=False):
        expected = getattr(reference, fn)(*case.args, **case.kwargs)
        expect_matching(call.value, expected, case=case.label, **tolerances)
        expect_unmodified(case.args, call.args_after, case=case.label, names=arg_names)
        expect_unmodified(
            list(case.kwargs.values()),
            [call.kwargs_after.get(k) for k in case.kwargs],
            case=case.label,
            names=[f"argument {k}" for k in case.kwargs],
        )


def same_gradient(
    student: StudentModule,
    reference: Oracle,
    fn: str,
    cases: Iterable[Case],
    wrt: tuple[int, ...] = (0,),
    output: int | None = None,
    **tolerances: Any,
) -> None:
    """Autograd through the student's `fn` gives the reference's gradient for each `wrt` input.

    With `output`, `fn` returns a tuple and the gradient flows back from its `output`-th item.
    """
    cases = list(cases)
    outputs = []
    for n, case in enumerate(cases):
        like = select_output(getattr(reference, fn)(*case.args, **case.kwargs), output)
        outputs.append(randn(like.shape, seed=seed_for(fn, "grad", n), dtype=like.dtype, device=like.device))
    requests = [Request(c.args, c.kwargs, wrt, g, output) for c, g in zip(cases, outputs, strict=True)]
    for case, g, call in zip(cases, outputs, student.calls(fn, requests), strict=False):
        expected = reference.grad(fn, *case.args, wrt=wrt, grad_output=g, output=output, **case.kwargs)
        # a wrong-shaped result gets wrong gradients everywhere: say what is wrong with it instead
        like = select_output(expected.value, output)
        expect_layout(select_output(call.value, output), like, case=case.label)
        if call.detached:
            fail(
                f"{case.label}: the result is cut off from autograd (no gradient reaches the input; "
                "look for .detach(), .item(), .numpy(), torch.no_grad or a new tensor)",
                "the result is cut off from autograd",
                "gradient",
            )
        if call.grad_error:
            fail(
                f"{case.label}: backpropagating through the result failed: {call.grad_error}",
                "backpropagating through the result failed",
                "gradient",
            )
        for i, got, exp in zip(wrt, call.grads, expected.grads, strict=True):
            if got is None:
                fail(
                    f"{case.label}: no gradient reaches argument {i + 1}",
                    "the gradient does not reach an input",
                    "gradient",
                )
            expect_close(got, exp, case=case.label, what=f"the gradient of argument {i + 1}", **tolerances)
