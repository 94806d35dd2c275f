"""Grade a submission while recording what each check asked: the student's inputs, the model
solutions' inputs, and which arguments it required unchanged (for the fairness tests)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dlgrade.core.calls import Request
from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.engine.inputs import has_tensor
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.plugin import GraderPlugin
from dlgrade.engine.runner import grade
from dlgrade.kit import backprop, checks, patterns

LARGE = 100.0  # an input with a finite entry this large is a "large" case


@dataclass(frozen=True)
class OracleCall:
    """One question a check asked the model solutions."""

    fn: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    wrt: tuple[int, ...] | None = None  # set for reference.grad
    grad_output: Any = None
    output: int | None = None


@dataclass
class CheckLog:
    """What one check exercised."""

    exercise: str
    name: str
    hidden: bool
    properties: set[str] = field(default_factory=set)
    oracle: list[OracleCall] = field(default_factory=list)


@dataclass
class Recording:
    checks: dict[str, CheckLog] = field(default_factory=dict)
    result: GradeResult | None = None
    _props: set[str] = field(default_factory=set)
    _oracle: list[OracleCall] = field(default_factory=list)

    def of(self, exercise: str, hidden: bool) -> set[str]:
        """Every property the exercise's hidden (or public) checks exercised."""
        logs = [c for c in self.checks.values() if c.exercise == exercise and c.hidden == hidden]
        return set().union(*(c.properties for c in logs)) if logs else set()


def properties(value: Any, top: bool = True) -> set[str]:
    """dtype:float32/float64 of every floating tensor inside `value`; nonfinite and large for
    the arguments themselves (inside a container, such as a cache, only the dtype counts: a
    forward's cache is not an input the grader chose)."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point() or value.numel() == 0:
            return set()
        found = {f"dtype:{str(value.dtype).removeprefix('torch.')}"}
        if not top:
            return found
        v = value.detach().to("cpu", torch.float64)
        finite = v[torch.isfinite(v)]
        if finite.numel() < v.numel():
            found.add("nonfinite")
        if finite.numel() and float(finite.abs().max()) >= LARGE:
            found.add("large")
        return found
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, tuple | list):
        return set().union(set(), *(properties(v, False) for v in value))
    return set()


def arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> set[str]:
    return set().union(set(), *(properties(a) for a in (*args, *kwargs.values())))


@contextlib.contextmanager
def _patched(rec: Recording) -> Iterator[None]:
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, new: Any) -> None:
        saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    real_request = ExerciseSandbox._request

    def request(self: ExerciseSandbox, fn: str, r: Request) -> Any:
        rec._props |= arguments(r.args, r.kwargs)
        if has_tensor(r.args) or has_tensor(r.kwargs):  # every such call is judged (engine.inputs)
            rec._props.add("unmodified:inputs")
        if r.wrt:
            rec._props.add("autograd")
        return real_request(self, fn, r)

    real_getattr, real_gradient = Oracle.__getattr__, Oracle.gradient

    def oracle_getattr(self: Oracle, name: str) -> Any:
        target = real_getattr(self, name)
        if not callable(target):
            return target

        @functools.wraps(target)
        def called(*args: Any, **kwargs: Any) -> Any:
            rec._oracle.append(OracleCall(name, args, dict(kwargs)))
            return target(*args, **kwargs)

        return called

    def oracle_gradient(self: Oracle, fn: str, r: Request) -> Any:
        rec._oracle.append(OracleCall(fn, r.args, dict(r.kwargs), r.wrt, r.grad_output, r.output))
        return real_gradient(self, fn, r)

    real_unmodified = checks.expect_unmodified

    def unmodified(before: Any, after: Any, *, case: str = "", names: Any = ()) -> None:
        names = list(names)
        for i, b in enumerate(before):
            if isinstance(b, torch.Tensor):
                rec._props.add(f"unmodified:{names[i] if i < len(names) else 'inputs'}")
        real_unmodified(before, after, case=case, names=names)

    real_report = GraderPlugin.pytest_runtest_makereport

    @functools.wraps(real_report)
    def report(self: GraderPlugin, item: Any, call: Any) -> Any:
        key = item.stash.get(_key(), None)
        if key is not None and call.when == "setup":
            rec._props, rec._oracle = set(), []
        if key is not None and call.when == "call":
            r = self.session.records[key]
            rec.checks[key] = CheckLog(r.exercise, r.name, r.hidden, rec._props, rec._oracle)
        return real_report(self, item, call)

    patch(ExerciseSandbox, "_request", request)
    patch(Oracle, "__getattr__", oracle_getattr)
    patch(Oracle, "gradient", oracle_gradient)
    for module in (checks, patterns, backprop):
        if hasattr(module, "expect_unmodified"):
            patch(module, "expect_unmodified", unmodified)
    patch(GraderPlugin, "pytest_runtest_makereport", report)
    try:
        yield
    finally:
        for owner, name, old in reversed(saved):
            setattr(owner, name, old)


def _key() -> Any:
    from dlgrade.engine import plugin

    return plugin._KEY


def record(course: Course, folder: Path, *names: str) -> Recording:
    """Grade `folder` (the model solutions, usually) and record every check's inputs."""
    rec = Recording()
    with _patched(rec):
        rec.result = grade(course, folder, names)
    return rec
