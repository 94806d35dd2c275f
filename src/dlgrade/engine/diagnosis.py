"""Which known mistake a failing exercise makes, if one explains every failing case.

While the checks run, each failed check's returned calls (the inputs the grader sent and the
plain data the worker sent back) are kept (`Failures.note`). When the result is built, an
exercise that lost points on wrong answers only is compared with each named mistake of its
module (core.mistakes) that loses it: the mistake (the model solution with the wrong
definitions appended) is called in the grading process, where the model solutions run, on
the same inputs. It is stated only when, on every call of every failing check, its outputs
(values and gradients) equal the student's within a tolerance, and within a time budget
(docs/mistakes.md). Nothing of a hidden check reaches the feedback but the mistake's name.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from dlgrade.core.calls import Call, Request
from dlgrade.core.manifest import Course
from dlgrade.core.mistakes import Mistake, named_for
from dlgrade.core.tolerances import TOLERANCES
from dlgrade.engine.oracle import Oracle

BUDGET_S = 2.0  # CPU seconds of the grading process per exercise (not wall time: load-proof); past it, none
# Failures of these kinds are about something other than values: no diagnosis names them.
_NOT_VALUES = frozenset({"upstream"})
_RULES = frozenset({"modified"})  # a rule of the exercise (inputs unchanged): not a failing case

Log = list[tuple[str, Request, Call]]


@dataclass
class Failures:
    """The failing checks' calls, by exercise; an exercise that failed otherwise is spoiled."""

    logs: dict[str, list[Log]] = field(default_factory=dict)
    spoiled: set[str] = field(default_factory=set)

    def note(self, exercise: str, outcome: str, kind: str, log: Log | None) -> None:
        if outcome == "passed" or kind in _RULES:
            return
        if outcome != "failed" or kind in _NOT_VALUES or not log:
            self.spoiled.add(exercise)  # raised, crashed, ran out of time, judged upstream
            return
        self.logs.setdefault(exercise, []).append(list(log))

    def failing(self, exercise: str) -> list[Log]:
        return [] if exercise in self.spoiled else self.logs.get(exercise, [])


def diagnose(
    course: Course, exercise: str, logs: list[Log], solutions: Path | None, budget_s: float = BUDGET_S
) -> Mistake | None:
    """The named mistake whose outputs equal the student's on every failing call, or None: no
    failing calls, no model solutions here (`solutions`: their folder), no mistake matches,
    mistakes of different names match (the failing cases cannot tell them apart), or the
    budget ran out."""
    if not logs or solutions is None:
        return None
    module = course.exercise(exercise).module
    start = time.process_time()
    try:
        candidates = named_for(course.mistakes_dir(), exercise, module)
        solution = (solutions / f"{module}.py").read_text(encoding="utf-8") if candidates else ""
    except (OSError, ValueError):
        return None  # a malformed mistake is `grade dev check`'s to report, not the student's
    found: list[Mistake] = []
    for mistake in candidates:
        if time.process_time() - start > budget_s:
            return None
        if _matches(_load(mistake, solution), logs, start, budget_s):
            found.append(mistake)
    if len({m.name for m in found}) != 1:
        return None  # none, or mistakes that differ only off these cases: naming one could mislead
    return found[0]


def _load(mistake: Mistake, solution: str) -> ModuleType | None:
    name = f"dlgrade_mistake.{mistake.module}.{mistake.path.stem}"
    module = ModuleType(name)
    module.__file__ = str(mistake.path)
    sys.modules[name] = module  # dataclasses and pickling look a module up by name
    try:
        exec(compile(mistake.source(solution), str(mistake.path), "exec"), module.__dict__)
    except Exception:
        return None
    finally:
        sys.modules.pop(name, None)
    return module


def _matches(module: ModuleType | None, logs: list[Log], start: float, budget_s: float) -> bool:
    if module is None:
        return False
    oracle = Oracle(module)
    for log in logs:
        for fn, request, got in log:
            if time.process_time() - start > budget_s:
                return False
            try:
                mine = _call(oracle, module, fn, request)
            except Exception:
                return False
            if not same(got.value, mine.value) or not same(tuple(got.grads), tuple(mine.grads)):
                return False
    return True


def _call(oracle: Oracle, module: ModuleType, fn: str, request: Request) -> Call:
    if request.wrt:
        return oracle.gradient(fn, request)
    args, kwargs = _copy(request.args), _copy(request.kwargs)
    return Call(value=getattr(module, fn)(*args, **kwargs), args_after=args, kwargs_after=kwargs)


def _copy(value: Any) -> Any:
    """The grader's inputs, copied: a mistake may change its arguments in place."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple | list):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Plain data equal within the diagnosis' tolerance (NaN equals NaN; shapes, dtypes exact)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype == torch.bool or not (a.is_floating_point() or a.is_complex()):
            return bool(torch.equal(a.cpu(), b.detach().cpu()))
        rtol, atol = TOLERANCES.get(a.dtype, (0.0, 0.0))  # the checks' own (core.tolerances)
        return bool(torch.allclose(a.cpu(), b.detach().cpu(), rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        rtol, atol = TOLERANCES[torch.float64]
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return bool(a == b) if type(a) is type(b) else False
