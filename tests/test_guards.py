"""Run-time guards (dlgrade.sandbox.guards) in a real worker: operators, loops, call counts."""

from __future__ import annotations

import textwrap

import pytest
import torch

from dlgrade.manifest import Course
from dlgrade.runner import grade
from dlgrade.sandbox.pool import WorkerSpec, shared_sandbox

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


def test_the_grading_process_is_never_guarded(course: Course) -> None:
    grade(course, course.reference_dir(), ["matmul", "trace"])
    for name in ("__matmul__", "__rmatmul__", "__iter__", "matmul"):
        assert not hasattr(getattr(torch.Tensor, name), "__dlgrade_original__"), name
    assert not hasattr(torch.einsum, "__dlgrade_original__")
    A = torch.randn(2, 2)
    assert torch.equal(A @ A, torch.matmul(A, A)) and len(list(A)) == 2
