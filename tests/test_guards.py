"""Run-time guards (dlgrade.sandbox.guards) in a real worker: operators, loops, call counts."""

from __future__ import annotations

import builtins
import textwrap

import pytest
import torch

from dlgrade.core import codec
from dlgrade.core.manifest import Course
from dlgrade.engine.runner import grade
from dlgrade.sandbox import guards
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.shared import shared_sandbox

SOURCE = """
import torch
import torch.functional


def at(A, B):
    return A @ B


def rat(A, B):
    return torch.einsum("mn,np->mp", A, B) if B is None else B.__rmatmul__(A)


def loop(A, B):
    total = torch.einsum("mn->n", A)
    for row in A:
        total = total + row
    return total


def unpack(A, B):
    first, *rest = A
    return torch.einsum("n->n", first)


def listed(A, B):
    return torch.einsum("mn,np->mp", [A, B])


def aliased(A, B):
    return torch.functional.einsum("mn,np->mp", A, B)


def twice(A, B):
    return torch.einsum("mn,np->mp", torch.einsum("mn->mn", A), B)


def none(A, B):
    return A * 2.0


def raises(A, B):
    raise ValueError("boom")


def stub(A, B):
    raise NotImplementedError


def dummy_einsum(A, B):
    torch.einsum("mn->mn", A)
    return (A[:, :, None] * B[None]).sum(1)


def summed(A, B):
    return torch.einsum("mn,np->mp", A * 2.0, B / 2.0).sum()


def softmax_and_scale(A, B):
    return torch.softmax(torch.einsum("mn,np->mp", A, B) / 2.0, dim=-1)
"""


@pytest.fixture(scope="module")
def call(course: Course, tmp_path_factory):
    """call(fn) -> (reply, reports) with `matmul`'s rules armed, in one worker for the module."""
    folder = tmp_path_factory.mktemp("guards")
    (folder / "guarded.py").write_text(textwrap.dedent(SOURCE))
    box = shared_sandbox(course.all_rule_patterns())
    worker = box.spawn(WorkerSpec(str(folder), "guarded", 2048))
    assert worker.hello(60)["kind"] == "ready"
    rules = course.exercise("matmul").rules
    forbid = rules.forbidden_calls()
    bounds = {k: list(v) for k, v in rules.call_counts().items()}
    A, B = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)

    def run(fn: str):
        if not worker.alive:
            pytest.fail("the worker died")
        request = {"op": "call", "fn": fn, "args": [A, B], "kwargs": {}, "forbid": forbid, "bounds": bounds}
        return worker.request(request, 30)

    yield run
    worker.close()


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(textwrap.dedent(SOURCE).splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("fn", "detail", "text"),
    [
        ("at", "calls torch.Tensor.__matmul__, which this exercise forbids", "A @ B"),
        ("rat", "calls torch.Tensor.__rmatmul__, which this exercise forbids", "__rmatmul__"),
        ("loop", "calls torch.Tensor.__iter__, which this exercise forbids", "for row in A"),
        ("unpack", "calls torch.Tensor.__iter__, which this exercise forbids", "first, *rest = A"),
        ("twice", "calls torch.einsum more than 1 time(s)", '"mn,np->mp", torch.einsum'),
        ("none", "must call torch.einsum at least 1 time(s); called it 0", ""),
        ("dummy_einsum", "calls torch.Tensor.mul, which this exercise forbids", "A[:, :, None] * B"),
        ("summed", "calls torch.Tensor.sum, which this exercise forbids", "A * 2.0, B / 2.0"),
    ],
)
def test_forbidden_at_run_time(call, fn: str, detail: str, text: str) -> None:
    reply, _reports = call(fn)
    assert reply["kind"] == "forbidden", reply
    v = reply["violations"][0]
    assert v["detail"] == detail
    assert v["where"] == (f"guarded.py:{line_of(text)}" if text else "")


@pytest.mark.parametrize("fn", ["listed", "aliased", "softmax_and_scale"])
def test_one_einsum_however_it_is_reached_counts_once(call, fn: str) -> None:
    reply, reports = call(fn)
    assert (reply["kind"], reports) == ("ok", []), reply


def test_a_raising_call_is_judged_by_what_it_raised(call) -> None:
    assert call("raises")[0]["kind"] == "raised"
    assert call("stub")[0]["kind"] == "not_implemented"


def test_rules_travel_once_per_worker_and_still_guard_every_later_call(course: Course, tmp_path) -> None:
    """An exercise's rules come with a worker's first call of their key (handle.Worker._encoded);
    the calls after it are sent without them and guarded the same; a key the worker was never
    sent gets no call run (the grader's own failure, never an unguarded call)."""
    (tmp_path / "guarded.py").write_text(textwrap.dedent(SOURCE))
    worker = shared_sandbox(course.all_rule_patterns()).spawn(WorkerSpec(str(tmp_path), "guarded", 2048))
    try:
        assert worker.hello(60)["kind"] == "ready"
        rules = course.exercise("matmul").rules
        bounds = {k: list(v) for k, v in rules.call_counts().items()}
        given = {"forbid": rules.forbidden_calls(), "bounds": bounds}
        A, B = torch.randn(3, 4, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)

        def request(fn: str, key: str = "matmul") -> dict:
            return {"op": "call", "fn": fn, "args": [A, B], "kwargs": {}, "rules_key": key, "rules": given}

        for fn, detail in [
            ("at", "calls torch.Tensor.__matmul__, which this exercise forbids"),
            ("at", "calls torch.Tensor.__matmul__, which this exercise forbids"),
            ("none", "must call torch.einsum at least 1 time(s); called it 0"),
        ]:
            reply, _ = worker.request(request(fn), 30)
            assert reply["kind"] == "forbidden" and reply["violations"][0]["detail"] == detail, reply
            assert "matmul" in worker.ruled  # sent once: the next call's frame goes without them
            assert len(worker._encoded(request(fn))) < len(codec.encode(request(fn)))
        assert worker.request(request("listed"), 30)[0]["kind"] == "ok"
        unsent = {k: v for k, v in request("at", "other").items() if k != "rules"}
        assert worker.request(unsent, 30)[0]["kind"] == "unreadable"
    finally:
        worker.close()


def test_the_grading_process_is_never_guarded(course: Course) -> None:
    grade(course, course.reference_dir(), ["matmul", "trace"])
    for name in ("__matmul__", "__rmatmul__", "__iter__", "matmul"):
        assert not guards.is_wrapper(getattr(torch.Tensor, name)), name
    assert torch.Tensor.matmul is torch._C.TensorBase.matmul
    assert not guards.is_wrapper(torch.einsum) and torch.einsum.__module__ == "torch.functional"
    assert getattr is builtins.getattr and type(getattr).__name__ == "builtin_function_or_method"
    A = torch.randn(2, 2)
    assert torch.equal(A @ A, torch.matmul(A, A)) and len(list(A)) == 2


def test_a_wrapper_leads_nowhere() -> None:
    """What student code can read off a wrapper: no original, no state, no code of ours."""
    secret = object()

    def inner(*args: object) -> object:
        return secret

    wrapper = guards.shell(inner, torch.softmax)
    assert wrapper() is secret and wrapper.__name__ == "softmax"
    for attr in ("__closure__", "__globals__", "__code__", "__self__", "__func__"):
        assert not hasattr(wrapper, attr), attr
    assert wrapper.__wrapped__ is wrapper  # wraps only itself (torch._dynamo wants the attribute)
    assert all(isinstance(v, str) or v is wrapper for v in vars(wrapper).values())
    assert wrapper.__reduce__() == "_VariableFunctionsClass.softmax"  # a name, not an object
    assert guards.is_wrapper(wrapper) and not guards.is_wrapper(inner)


HOSTILE = """
import torch


def via_super(x):
    return super(torch.Tensor, x).softmax(0)


def via_mro(x):
    return type.mro(torch.Tensor)[1].softmax(x, 0)


def via_variable_functions(x):
    return torch._C._VariableFunctions.softmax(x, 0)


def via_nn_module(x):
    return torch._C._nn.cross_entropy_loss(x[None], torch.tensor([0]))


def globals_by_name(x):
    return getattr(torch.softmax, "__glob" + "als__")


def private_by_name(x):
    return getattr(torch, "_" + "C")


def state_by_closure(x):
    return torch.softmax.__closure__


def allowed(x):
    return getattr(torch, "ex" + "p")(x - x.amax())


def run_backward(x):
    y = x.detach().requires_grad_(True)
    engine = torch.autograd.Variable._execution_engine
    return engine.run_backward(((y * y).sum(),), (torch.ones(()),), False, False, (y,), False, False)[0]


def with_enable_grad(x):
    with torch.enable_grad():
        y = x.detach().requires_grad_(True)
        return torch.autograd.grad((y * y).sum(), y)[0]


def forward_mode(x):
    import torch.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        y = fwAD.make_dual(x, torch.ones_like(x))
        return fwAD.unpack_dual(y * y).tangent
"""


@pytest.fixture(scope="module")
def hostile_call(course: Course, tmp_path_factory):
    """call(exercise, fn) -> reply, in one worker, with `exercise`'s rules armed."""
    folder = tmp_path_factory.mktemp("hostile_guards")
    (folder / "hostile.py").write_text(textwrap.dedent(HOSTILE))
    box = shared_sandbox(course.all_rule_patterns())
    worker = box.spawn(WorkerSpec(str(folder), "hostile", 2048))
    assert worker.hello(60)["kind"] == "ready"
    x = torch.randn(4, dtype=torch.float64)

    def run(exercise: str, fn: str):
        rules = course.exercise(exercise).rules
        request = {"op": "call", "fn": fn, "args": [x], "kwargs": {}, "forbid": rules.forbidden_calls()}
        return worker.request(request, 30)[0]

    yield run
    worker.close()


@pytest.mark.parametrize(
    ("fn", "detail"),
    [
        ("via_super", "calls torch.Tensor.softmax"),
        ("via_mro", "calls torch.Tensor.softmax"),
        ("via_variable_functions", "calls torch.softmax"),
        ("via_nn_module", "calls torch._C._nn.cross_entropy_loss"),
        ("globals_by_name", "looks up '__globals__' with getattr"),
        ("private_by_name", "looks up '_C' with getattr"),
    ],
)
def test_c_entry_points_and_names_are_guarded(hostile_call, fn: str, detail: str) -> None:
    reply = hostile_call("stable_softmax", fn)
    assert reply["kind"] == "forbidden", reply
    assert reply["violations"][0]["detail"].startswith(detail)
    assert reply["violations"][0]["where"].startswith("hostile.py:")


def test_closures_are_not_there_and_harmless_names_are_allowed(hostile_call) -> None:
    assert hostile_call("stable_softmax", "state_by_closure")["kind"] == "raised"
    assert hostile_call("stable_softmax", "allowed")["kind"] == "ok"


def test_no_autograd_calls_run_without_grad_mode(hostile_call) -> None:
    """The engine's entry point cannot be wrapped; with grad mode off it has nothing to do."""
    reply = hostile_call("relu_backward", "run_backward")
    assert reply["kind"] == "raised" and "does not require grad" in reply["message"], reply
    assert hostile_call("relu_forward", "run_backward")["kind"] == "ok"  # no rule: autograd works
    for fn, detail in (("with_enable_grad", "torch.enable_grad"), ("forward_mode", "forward_ad")):
        reply = hostile_call("relu_backward", fn)
        assert reply["kind"] == "forbidden" and detail in reply["violations"][0]["detail"], reply


def test_a_wildcard_guards_what_the_module_defines_not_the_classes_it_imports() -> None:
    from dlgrade.sandbox.resolve import resolve

    names = {dotted for _owner, _attr, dotted in resolve("torch.nn.init.*")}
    assert "torch.nn.init.xavier_uniform_" in names
    assert "torch.nn.init.Tensor" not in names  # guarding it broke every Tensor subclass's __init__
