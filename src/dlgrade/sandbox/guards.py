"""Run-time guards inside the sandbox: forbidden-call wrappers, call counters, audit policy.

Installed in the zygote (wrappers, inactive) and armed in each worker around one call of
student code. A guard that fires reports through `report` (a frame on the worker's socket,
written before anything else can intervene) and raises `ForbiddenCall`, a BaseException, so
a student's `except Exception` cannot swallow it.
"""

from __future__ import annotations

import builtins
import fnmatch
import functools
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any


class ForbiddenCall(BaseException):
    """Raised inside student code when it calls something its exercise forbids."""


@dataclass
class GuardState:
    """What is armed for the call in progress; empty between calls."""

    forbid: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, tuple[int, int | None, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    student_files: frozenset[str] = frozenset()
    report: Callable[[dict[str, Any]], None] | None = None
    armed: bool = False
    violations: list[dict[str, Any]] = field(default_factory=list)
    active: set[str] = field(default_factory=set)  # guarded calls in progress, by name
    verdicts: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # name -> forbidding rule

    def arm(self, forbid: dict[str, str], bounds: dict[str, tuple[int, int | None, str]]) -> None:
        self.forbid, self.bounds, self.counts = forbid, bounds, {}
        self.verdicts = {}
        self.violations = []
        self.active.clear()
        self.armed = True

    def disarm(self, returned: bool = True) -> list[dict[str, Any]]:
        """Stop guarding; return the violations, with unmet minimum call counts when the call
        `returned` (a call that raised, a stub say, is judged by what it raised instead)."""
        self.armed = False
        self.active.clear()
        for name, (lo, _hi, why) in self.bounds.items() if returned else ():
            n = self.counts.get(name, 0)
            if n < lo:
                self.violations.append(
                    {
                        "rule": name,
                        "why": why,
                        "where": "",
                        "detail": f"must call {name} at least {lo} time(s); called it {n}",
                    }
                )
        return self.violations

    def student_line(self) -> str:
        """'file.py:LINE' of the innermost student frame on the stack, or ''."""
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename in self.student_files:
                return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
            frame = frame.f_back
        return ""

    def violate(self, rule: str, why: str, detail: str) -> None:
        v = {"rule": rule, "why": why, "where": self.student_line(), "detail": detail}
        self.violations.append(v)
        if self.report is not None:
            self.report(v)
        self.armed = False  # one report per call; the call is over for grading purposes
        raise ForbiddenCall(f"{detail} ({v['where'] or 'inside a library call'})")

    def seen(self, dotted: str) -> None:
        if dotted not in self.verdicts:  # a guarded operator may run thousands of times a call
            self.verdicts[dotted] = next(
                (
                    (pattern, why)
                    for pattern, why in self.forbid.items()
                    if pattern == dotted or fnmatch.fnmatchcase(dotted, pattern)
                ),
                None,
            )
        verdict = self.verdicts[dotted]
        if verdict is not None:
            self.violate(verdict[0], verdict[1], f"calls {dotted}, which this exercise forbids")
        if dotted in self.bounds:
            n = self.counts[dotted] = self.counts.get(dotted, 0) + 1
            _lo, hi, why = self.bounds[dotted]
            if hi is not None and n > hi:
                self.violate(dotted, why, f"calls {dotted} more than {hi} time(s)")


STATE = GuardState()


def resolve(pattern: str) -> list[tuple[Any, str, str]]:
    """(owner, attribute, dotted name) for each callable a dotted pattern names."""
    parts = pattern.split(".")
    head = [p for p in parts[:-1]]
    if any(ch in "".join(head) for ch in "*?["):
        return []
    owner: Any = None
    for i in range(len(head), 0, -1):
        try:
            owner = importlib.import_module(".".join(head[:i]))
        except ImportError:
            continue
        try:
            for p in head[i:]:
                owner = getattr(owner, p)
        except AttributeError:
            return []
        break
    if owner is None:
        owner = builtins if not head else None
    if owner is None:
        return []
    last = parts[-1]
    if any(ch in last for ch in "*?["):
        names = [n for n in dir(owner) if fnmatch.fnmatchcase(n, last)]
    else:
        names = [last] if hasattr(owner, last) else []
    prefix = ".".join(head)
    return [
        (owner, n, f"{prefix}.{n}" if prefix else n)
        for n in names
        if callable(getattr(owner, n, None)) and not isinstance(getattr(owner, n), type(sys))
    ]


def _wrap(original: Any, dotted: str) -> Any:
    if isinstance(original, type):
        init = original.__init__  # type: ignore[misc]

        @functools.wraps(init)
        def guarded_init(self: Any, *args: Any, **kwargs: Any) -> None:
            if STATE.armed:
                STATE.seen(dotted)
            init(self, *args, **kwargs)

        original.__init__ = guarded_init  # type: ignore[misc]
        return original

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not STATE.armed or dotted in STATE.active:
            return original(*args, **kwargs)
        # Counted once per call from outside: torch.einsum, say, calls itself again through
        # its module's own name (an alias this module wraps too), and that is not the student.
        STATE.seen(dotted)
        STATE.active.add(dotted)
        try:
            return original(*args, **kwargs)
        finally:
            STATE.active.discard(dotted)

    guarded.__dlgrade_original__ = original  # type: ignore[attr-defined]
    return guarded


def install(patterns: list[str]) -> list[str]:
    """Wrap every callable the patterns name, wherever torch's modules hold it; return the names."""
    wrapped: dict[int, Any] = {}
    names: list[str] = []
    for pattern in patterns:
        for owner, attr, dotted in resolve(pattern):
            original = getattr(owner, attr)
            if getattr(original, "__dlgrade_original__", None) is not None:
                continue
            replacement = wrapped.get(id(original))
            if replacement is None:
                replacement = wrapped[id(original)] = _wrap(original, dotted)
            if replacement is not original:
                setattr(owner, attr, replacement)
            names.append(dotted)
    _replace_aliases(wrapped)
    return names


def _replace_aliases(wrapped: dict[int, Any]) -> None:
    """Point every module-level alias of a wrapped function at its wrapper."""
    for name, module in list(sys.modules.items()):
        if not (name == "torch" or name.startswith(("torch.", "numpy"))):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            replacement = wrapped.get(id(value))
            if replacement is not None and replacement is not value:
                namespace[key] = replacement
