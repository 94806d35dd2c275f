"""Check bodies for hand-written backward passes: the student's forward cache feeds the student's backward.

A backward is graded the way it is used: the grader calls the student's forward, sends the
cache it returned (plain data, checked here) to the student's backward, and compares the
gradients with autograd through the model forward (`reference.grad`) or with centered finite
differences of the model forward. The backward is therefore judged on the student's own
forward: where that forward is wrong on a case, the failure says so and points at it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from dlgrade.core.calls import Call, Forbidden, NotStarted, Raised, Request, StudentError
from dlgrade.core.codec import Opaque
from dlgrade.engine.inputs import changes
from dlgrade.engine.oracle import Oracle, select_output
from dlgrade.engine.student import StudentModule
from dlgrade.kit.cases import Case, randn, seed_for
from dlgrade.kit.checks import CheckFailure, describe, expect_close, expect_sequence, expect_unmodified, fail
from dlgrade.kit.relative import expect_precise, expect_rel_close

# Centered differences in float64 with this step are good to ~1e-9 on smooth functions.
FD_STEP = 1e-6
FD_RTOL = 1e-5
FD_FLOOR = 1e-3  # entries below 1e-3 of the gradient's scale are judged against that scale


@dataclass(frozen=True)
class Layer:
    """A forward `fn(*inputs) -> (out, cache)` and its `backward(dout, cache) -> grads`."""

    forward: str
    backward: str
    grads: tuple[str, ...]  # what backward returns, in order: ("dx", "dgamma", "dbeta")
    wrt: tuple[int, ...]  # the forward's arguments those are the gradients of
    # out lies in [0, 1] and the backward uses 1 - out (sigmoid), or out lies in [-1, 1] and the
    # backward uses 1 - out**2 (tanh): 1 - out must be precise too, or a forward computed in
    # float32 (or clamped) passes while its backward cannot; and a float64 out is judged to
    # float64 precision, relatively, tiny values included (relative.expect_precise)
    complement: bool = False


@dataclass(frozen=True)
class Pass:
    """The student's forward and backward on one case."""

    out: Any
    grads: tuple[Any, ...]
    dout_after: Any
    changed: str = ""  # the forward's argument the forward changed in place ('argument 1'), if any


def opaque_part(value: Any) -> str:
    """'an object of type X' for the first part of `value` that did not travel as plain data."""
    if isinstance(value, Opaque):
        return describe(value)
    parts = value.values() if isinstance(value, dict) else value if isinstance(value, tuple | list) else ()
    return next((found for found in map(opaque_part, parts) if found), "")


def forward_agrees(
    student: StudentModule,
    reference: Oracle,
    layer: Layer,
    cases: Iterable[Case],
    *,
    unmodified: bool = False,
    arg_names: tuple[str, ...] = (),
    **tolerances: Any,
) -> None:
    """The student's forward returns (out, cache), a plain-data cache and the reference's out."""
    cases = list(cases)
    requests = [Request(c.args, c.kwargs) for c in cases]
    for case, call in zip(cases, student.calls(layer.forward, requests), strict=False):
        out, _cache = out_and_cache(call.value, layer, case)
        expected = select_output(getattr(reference, layer.forward)(*case.args, **case.kwargs), 0)
        expect_out(out, expected, layer, case=case.label, **tolerances)
        if unmodified:
            expect_unmodified(case.args, call.args_after, case=case.label, names=arg_names)


def expect_out(out: Any, expected: torch.Tensor, layer: Layer, *, case: str = "", **tolerances: Any) -> None:
    """The forward's out as a forward check judges it; a backward is judged on that forward
    only where the same judgement finds it right (see judged_on_own_forward)."""
    expect_close(out, expected, case=case, what="out", **tolerances)
    if layer.complement:
        expect_precise(out, expected, case=case, what="out")
        expect_rel_close(1 - out, 1 - expected, case=case, what="1 - out")


def _out_agrees(out: Any, expected: torch.Tensor, layer: Layer) -> bool:
    try:
        expect_out(out, expected, layer)
    except CheckFailure:
        return False
    return True


def out_and_cache(value: Any, layer: Layer, case: Case, *, judged: bool = False) -> tuple[Any, Any]:
    """(out, cache) from a forward's result, or a failure that says what is wrong with it."""
    then = f"; {layer.backward} is graded on that cache, so fix {layer.forward} first" if judged else ""
    kind = "upstream" if judged else "type"
    if not isinstance(value, tuple | list) or len(value) != 2:
        fail(
            f"{case.label}: {layer.forward} should return (out, cache); got {describe(value)}{then}",
            f"{layer.forward} does not return (out, cache)",
            kind,
        )
    odd = opaque_part(value[1])
    if odd:
        fail(
            f"{case.label}: the cache from {layer.forward} holds {odd}; a cache must be plain data "
            f"(tensors, numbers, strings, tuples, lists, dicts) to travel to {layer.backward}{then}",
            f"the cache from {layer.forward} is not plain data",
            kind,
        )
    return value[0], value[1]


def run_pass(
    student: StudentModule, layer: Layer, case: Case, dout: torch.Tensor, expected_out: torch.Tensor
) -> Pass:
    """The student's forward on the case, then the student's backward on that forward's cache."""
    forward = _student_forward(student, layer, case, dout)
    out, cache = out_and_cache(forward.value, layer, case, judged=True)
    changed = changed_input(case, forward)
    with judged_on_own_forward(out, expected_out, layer, changed):
        call = student.call(layer.backward, dout, cache)
        if len(layer.grads) == 1:
            grads: tuple[Any, ...] = (call.value,)
        else:
            what = f"the result of {layer.backward} ({', '.join(layer.grads)})"
            grads = tuple(expect_sequence(call.value, len(layer.grads), case=case.label, what=what))
    return Pass(out, grads, call.args_after[0] if call.args_after else None, changed)


def changed_input(case: Case, call: Call) -> str:
    """'argument 1' when the call changed its first argument in place (engine.inputs), else ''."""
    after = call.args_after
    for i, before in enumerate(case.args):
        for name, _how in changes(before, after[i] if i < len(after) else None, f"argument {i + 1}"):
            return name
    return ""


def _student_forward(student: StudentModule, layer: Layer, case: Case, dout: torch.Tensor) -> Call:
    graded_on = f"{case.label}: {layer.backward} is graded on the cache of your {layer.forward}"
    try:
        return student.call(layer.forward, *case.args, **case.kwargs)
    except NotStarted:
        _raise_if_not_started(student, layer, dout)
        fail(
            f"{graded_on}, which still raises NotImplementedError: write {layer.forward} first",
            f"{layer.forward} is not implemented yet, and {layer.backward} is graded on its cache",
            "upstream",
        )
    except (Raised, Forbidden) as exc:
        fail(
            f"{graded_on}, which failed: {exc.public()}; fix {layer.forward} first",
            f"{layer.backward} is graded on the cache of {layer.forward}, which failed: {exc.hidden()}",
            "upstream",
        )


def _raise_if_not_started(student: StudentModule, layer: Layer, dout: torch.Tensor) -> None:
    """An untouched backward stub grades as not started even when the forward is a stub too."""
    try:
        getattr(student, layer.backward)(dout, None)
    except NotStarted:
        raise
    except StudentError:
        pass  # it got past its first line: it is written, and needs a real cache


@contextlib.contextmanager
def judged_on_own_forward(
    out: Any, expected_out: torch.Tensor, layer: Layer, changed: str = ""
) -> Iterator[None]:
    """A failure (or an exception of the backward) inside says so when the student's own
    forward is wrong on the same case, judged as the forward's own checks judge it
    (`expect_out`), or changed its input in place (`changed` names it; its cache may hold
    the changed tensor): a backward's verdict never rests on a forward judged more loosely."""
    try:
        yield
    except (CheckFailure, Raised) as exc:
        if _out_agrees(out, expected_out, layer) and not changed:
            raise
        public, hidden = (
            (exc.public, exc.hidden) if isinstance(exc, CheckFailure) else (exc.public(), exc.hidden())
        )
        wrong = f"which changed its {changed} in place" if changed else "whose out is wrong on this case too"
        raise CheckFailure(
            f"{public} - judged on the cache of your own {layer.forward}, {wrong}: fix {layer.forward} first",
            f"{hidden} (judged on your own {layer.forward}, which is wrong here too)",
            "upstream",
        ) from None


def upstream(reference: Oracle, layer: Layer, case: Case) -> torch.Tensor:
    """A seeded `dout` shaped like the forward's out."""
    like = select_output(getattr(reference, layer.forward)(*case.args, **case.kwargs), 0)
    seed = seed_for(layer.backward, "dout", case.label)
    return randn(like.shape, seed=seed, dtype=like.dtype, device=like.device)


def backward_agrees(
    student: StudentModule,
    reference: Oracle,
    layer: Layer,
    cases: Iterable[Case],
    *,
    unmodified: bool = False,
    only: tuple[str, ...] = (),
) -> None:
    """The student's backward, fed its own forward's cache, gives autograd's gradients of the
    model forward (to relative.REL_TOLERANCES: 1e-7 in float64, where a hand-written backward
    agrees with autograd up to rounding); with `unmodified`, it also leaves `dout` as it was.
    `only` names the gradients this check judges (default: all), so that a check named for
    one output is not failed by another's bug."""
    for case in cases:
        dout = upstream(reference, layer, case)
        expected = reference.grad(
            layer.forward, *case.args, wrt=layer.wrt, grad_output=dout, output=0, **case.kwargs
        )
        expected_out = select_output(expected.value, 0)
        done = run_pass(student, layer, case, dout, expected_out)
        with judged_on_own_forward(done.out, expected_out, layer, done.changed):
            for name, got, exp in zip(layer.grads, done.grads, expected.grads, strict=True):
                if not only or name in only:
                    expect_rel_close(got, exp, case=case.label, what=name, dims=case.dims)
        if unmodified:
            expect_unmodified((dout,), (done.dout_after,), case=case.label, names=["dout"])


def gradient_check(
    student: StudentModule,
    reference: Oracle,
    layer: Layer,
    cases: Iterable[Case],
    *,
    step: float = FD_STEP,
    rtol: float = FD_RTOL,
) -> None:
    """The CS231n gradient check: the student's backward against centered differences of the
    model forward, reported as the largest relative error (use small float64 cases)."""
    for case in cases:
        dout = upstream(reference, layer, case)
        expected_out = select_output(getattr(reference, layer.forward)(*case.args, **case.kwargs), 0)
        done = run_pass(student, layer, case, dout, expected_out)
        with judged_on_own_forward(done.out, expected_out, layer, done.changed):
            for name, got, i in zip(layer.grads, done.grads, layer.wrt, strict=True):
                numeric = numeric_gradient(reference, layer.forward, case, i, dout, step)
                expect_rel_close(
                    got,
                    numeric,
                    rtol=rtol,
                    case=f"{case.label}, centered differences with h={step:g}",
                    what=name,
                    dims=case.dims,
                    floor=FD_FLOOR,
                    expected_word="numeric",
                )


def numeric_gradient(
    reference: Oracle, fn: str, case: Case, i: int, dout: torch.Tensor, step: float
) -> torch.Tensor:
    """d/d args[i] of sum(out * dout), out = fn(*args)[0]: (f(a + h) - f(a - h)) / 2h per entry."""
    base = case.args[i]
    grad = torch.zeros(base.shape, dtype=base.dtype, device=base.device)
    for j in range(base.numel()):
        sides = []
        for h in (step, -step):
            bumped = base.clone(memory_format=torch.contiguous_format)
            bumped.view(-1)[j] += h
            args = (*case.args[:i], bumped, *case.args[i + 1 :])
            out = select_output(getattr(reference, fn)(*args, **case.kwargs), 0)
            sides.append(float((out * dout).sum()))
        grad.view(-1)[j] = (sides[0] - sides[1]) / (2 * step)
    return grad
