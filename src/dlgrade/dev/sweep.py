"""`grade dev sweep`: find the library routes to a forbidden result before students do.

Walks the public callables of torch, torch.nn.functional, torch.special, torch.sparse,
torch.linalg, torch.distributions (and its transforms), torch.nn's modules, Tensor methods,
numpy (ufuncs' `reduce` too) and math; calls each on a target's inputs in the common
signatures (no argument, a dim of -1 or 0 by position or keyword, a module built with no
argument or with the feature count); flags every one whose result equals a forbidden result
(dlgrade/dev/sweep_targets.py); and asks the course's static rules whether each flagged callable
is refused. A call that takes longer than a second is abandoned.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import signal
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy
import torch

from dlgrade.core.manifest import Course
from dlgrade.core.rule_sets import Rules
from dlgrade.dev.sweep_targets import TARGETS, Inputs, Target, inputs
from dlgrade.engine.rules import check_module

MODULES = ("torch", "torch.nn.functional", "torch.special", "torch.sparse", "torch.linalg",
           "torch.distributions", "torch.distributions.transforms", "torch.nn", "numpy", "math")  # fmt: skip
# Callables with side effects outside the call (files, global settings, the process): never called.
SKIP = ("*save*", "*load*", "*file*", "*set_*", "set*", "*seed*", "use_*", "*exit*", "*abort*", "*sleep*",
        "*print*", "*compile*", "*jit*", "*hub*", "*cuda*", "*memmap*", "*txt", "info", "source", "show_*",
        "who", "test", "lookfor", "disp", "DataSource", "fromregex", "*share_memory*", "*pin_memory*",
        "*register*", "*hook*", "apply_", "map_", "map2_", "*backward*", "*storage*", "*data_ptr*",
        "get_include", "FileCheck", "*thread*", "*signal*", "*fork*", "*interop*", "*debug*",
        "*profil*")  # fmt: skip
TAILS: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = (
    ((), {}), ((-1,), {}), ((), {"dim": -1}), ((), {"axis": -1}), ((0,), {}), ((), {"dim": 0}),
)  # fmt: skip
SECONDS = 1.0


@dataclass(frozen=True)
class Finding:
    rule: str
    target: str
    callable: str  # dotted, as a student would write it (`torch.Tensor.softmax` for a method)
    refusal: str  # the static refusal's detail, "" when nothing refuses it
    guarded: bool = False  # a named ban the run-time guards also enforce

    def line(self) -> str:
        verdict = f"refused: {self.refusal}" if self.refusal else "NOT REFUSED"
        runtime = ", guarded at run time too" if self.guarded else ""
        return f"{self.rule}: {self.callable} computes {self.target} -- {verdict}{runtime}"


def candidates() -> Iterator[tuple[str, Callable[..., Any]]]:
    """(dotted name, callable) for every public callable of MODULES and every Tensor method."""
    import importlib

    seen: set[int] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in sorted(dir(module)):
            obj = getattr(module, name, None)
            if (
                name.startswith("_")
                or not callable(obj)
                or _skipped(name)
                or isinstance(obj, types.ModuleType)
            ):
                continue
            if id(obj) in seen and module_name != "torch.nn.functional":
                continue
            seen.add(id(obj))
            yield f"{module_name}.{name}", obj
            if isinstance(obj, numpy.ufunc) and obj.nin == 2:
                yield f"{module_name}.{name}.reduce", obj.reduce
    for name in sorted(dir(torch.Tensor)):
        if not name.startswith("_") and not _skipped(name) and callable(getattr(torch.Tensor, name, None)):
            yield f"torch.Tensor.{name}", getattr(torch.Tensor, name)


def _skipped(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in SKIP)


def sweep(course: Course, rule: str | None = None) -> tuple[int, list[Finding]]:
    """(callables tried, findings) for one rule set or all the targets' rule sets."""
    targets = [t for t in TARGETS if rule is None or t.rule == rule]
    if not targets:
        known = sorted({t.rule for t in TARGETS})
        raise ValueError(f"no sweep target for rule set {rule!r} (targets: {', '.join(known)})")
    by_input: dict[str, list[Target]] = {}
    for t in targets:
        by_input.setdefault(t.inputs, []).append(t)
    base = inputs()
    expected = {(t, key): t.result(base[key]) for key, ts in by_input.items() for t in ts}
    flagged: dict[tuple[str, str, str], None] = {}
    tried = 0
    for dotted, fn in candidates():
        tried += 1
        for key, ts in by_input.items():
            for result in _results(dotted, fn, base[key]):
                for t in ts:
                    if _equal(result, expected[(t, key)]):
                        flagged[(t.rule, t.name, dotted)] = None
    findings = []
    for r, n, d in flagged:
        rules = rules_for(course, r)
        findings.append(Finding(r, n, d, refusal(rules, d), guarded(rules, d)))
    return tried, findings


def guarded(rules: Rules, dotted: str) -> bool:
    """Whether a named ban (what the worker's run-time guards wrap) covers `dotted`."""
    return any(fnmatch.fnmatchcase(dotted, p) for p in rules.forbidden_calls())


def _results(dotted: str, fn: Callable[..., Any], given: Inputs) -> Iterator[Any]:
    """What `fn` returns on copies of `given` in each common signature (failures skipped)."""
    method = dotted.startswith("torch.Tensor.")
    for args, kwargs in TAILS:
        fresh: Any = tuple(x.clone() for x in given)
        if dotted.startswith(("numpy.", "math.")):
            fresh = _plain(fresh, scalar=dotted.startswith("math."))
        if fresh is None:
            return
        if isinstance(fn, type) and not method:
            width = given[0].shape[-1] if given[0].dim() else 1
            for made in (_call(fn, *args, **kwargs), _call(fn, width)):
                if callable(made):
                    yield _call(made, *fresh)
        else:
            yield _call(fn, *fresh, *args, **kwargs)


def _plain(t: Inputs, scalar: bool) -> Any:
    if any(x.is_sparse for x in t):
        return None
    if scalar:
        return tuple(float(x) for x in t) if all(x.dim() == 0 for x in t) else None
    return tuple(x.numpy() for x in t)


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), or None if it raises, prints to a file or takes over SECONDS."""

    def alarm(_signum: int, _frame: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except (Exception, SystemExit):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _equal(result: Any, expected: torch.Tensor) -> bool:
    if isinstance(result, tuple | list) and not isinstance(result, torch.Size):
        return any(_equal(r, expected) for r in result[:4])
    try:
        if isinstance(result, torch.Tensor):
            got = result.to_dense() if result.is_sparse else result
        elif isinstance(result, numpy.ndarray | numpy.generic | float):
            plain = numpy.asarray(result)
            if plain.dtype.kind != "f":
                return False
            got = torch.as_tensor(plain.astype(numpy.float64))
        else:
            return False
        if got.numel() != expected.numel() or got.is_complex() or not got.is_floating_point():
            return False
        got = got.detach().to(torch.float64).reshape(expected.shape)
        return bool(torch.allclose(got, expected, rtol=1e-6, atol=1e-9)) and bool(torch.isfinite(got).all())
    except Exception:
        return False


def rules_for(course: Course, rule: str) -> Rules:
    """The rules of the first exercise under `rule` (the rule set alone if none is)."""
    rules = next((e.rules for e in course.exercises if rule in {rs.name for rs in e.rules.sets}), None)
    return rules or Rules(sets=(course.rule_sets[rule],))


def refusal(rules: Rules, dotted: str) -> str:
    """The static refusal of a call to `dotted` under `rules`, "" if nothing refuses it."""
    call = (
        f"x.{dotted.removeprefix('torch.Tensor.')}()"
        if dotted.startswith("torch.Tensor.")
        else f"{dotted}(x)"
    )
    source = f"import torch\nimport numpy\nimport math\n\n\ndef f(x):\n    return {call}\n"
    found = check_module(source, {"f": rules}, "sweep.py", "sweep").violations["f"]
    return found[0].detail if found else ""


def render(tried: int, findings: list[Finding]) -> str:
    lines = [f.line() for f in sorted(findings, key=lambda f: (f.rule, f.callable))]
    open_ = sum(1 for f in findings if not f.refusal)
    lines.append(f"{tried} callables tried, {len(findings)} routes found, {open_} not refused")
    return "\n".join(lines) + "\n"
