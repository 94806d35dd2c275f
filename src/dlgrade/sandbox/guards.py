"""Run-time guards inside the sandbox: forbidden-call wrappers, call counters, audit policy.

Installed in the zygote (wrappers, inactive) and armed in each worker around one call of
student code. A guard that fires reports through `report` (a frame on the worker's socket,
written before anything else can intervene) and raises `ForbiddenCall`, a BaseException, so
a student's `except Exception` cannot swallow it.

What student code can reach of a guard leads nowhere: every wrapper is a `shell` (below),
a C object whose attributes hold neither the original callable nor the guard's state. C
entry points that no wrapper can replace (`torch._C.TensorBase` methods, reached through
`super()`, and `torch._C._VariableFunctions`) are seen by a torch function mode pushed for
the calls of exercises whose rules need it (`watch_plan.py`); an exercise that forbids the
ways back to grad mode runs with grad mode off, so the autograd engine's own entry points
have no graph to differentiate.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from dlgrade.sandbox.resolve import resolve


class ForbiddenCall(BaseException):
    """Raised inside student code when it calls something its exercise forbids."""


# A call that forbids every one of these runs with grad mode off (see the module docstring).
GRAD_SWITCHES = ("torch.enable_grad", "torch.set_grad_enabled")
# Elementwise arithmetic that, where forbidden, is still allowed as a scale: when at most one
# operand is a tensor of more than one element (`scores / math.sqrt(d)`; not `A * x`).
SCALES = frozenset(
    f"{owner}.{op}"
    for owner in ("torch", "torch.Tensor")
    for op in ("mul", "multiply", "div", "divide", "true_divide", "add", "sub", "subtract")
) | frozenset(f"torch.Tensor.{op}_" for op in ("mul", "multiply", "div", "add", "sub"))


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
    grad_was: bool | None = None  # grad mode before a call that runs without it

    def arm(
        self,
        forbid: dict[str, str],
        bounds: dict[str, tuple[int, int | None, str]],
        watch: bool | None = None,
    ) -> None:
        """Guard one call. `watch`: push the torch function mode (sandbox/watch_plan.py decides
        per exercise); None, from a caller that did not decide, pushes it for any rule."""
        self.forbid, self.bounds, self.counts = forbid, bounds, {}
        self.verdicts = {}
        self.violations = []
        self.active.clear()
        on = bool(forbid or bounds) if watch is None else watch
        _torch_hooks(on=on, no_grad=all(s in forbid for s in GRAD_SWITCHES))
        self.armed = True

    def disarm(self, returned: bool = True) -> list[dict[str, Any]]:
        """Stop guarding; return the violations, with unmet minimum call counts when the call
        `returned` (a call that raised, a stub say, is judged by what it raised instead)."""
        self.armed = False
        self.active.clear()
        _torch_hooks(on=False, no_grad=False)
        for name, (lo, _hi, why) in self.bounds.items() if returned else ():
            n = self.counts.get(name, 0)
            if n < lo:
                self.violations.append(
                    {
                        "rule": name,
                        "what": "at_least",
                        "count": n,
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

    def violate(self, rule: str, why: str, detail: str, **names: str) -> None:
        """Report and stop the call. The grader reads only `rule` and `names` (which call,
        which kind of breach) and writes its message itself (dlgrade.engine.violations)."""
        v = {"rule": rule, **names, "why": why, "where": self.student_line(), "detail": detail}
        self.violations.append(v)
        if self.report is not None:
            self.report(v)
        self.armed = False  # one report per call; the call is over for grading purposes
        raise ForbiddenCall(f"{detail} ({v['where'] or 'inside a library call'})")

    def seen(self, dotted: str, args: Any = (), kwargs: Any = None) -> None:
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
        if verdict is not None and not (dotted in SCALES and _scale(args, kwargs)):
            detail = f"calls {dotted}, which this exercise forbids"
            self.violate(verdict[0], verdict[1], detail, what="forbidden", call=dotted)
        if dotted in self.bounds:
            n = self.counts[dotted] = self.counts.get(dotted, 0) + 1
            _lo, hi, why = self.bounds[dotted]
            if hi is not None and n > hi:
                self.violate(dotted, why, f"calls {dotted} more than {hi} time(s)", what="at_most")


STATE = GuardState()


def _scale(args: Any, kwargs: Any) -> bool:
    """At most one operand is a tensor of more than one element."""
    torch = sys.modules["torch"]
    operands = [*args, *(kwargs or {}).values()]
    return sum(isinstance(a, torch.Tensor) and torch._C.TensorBase.numel(a) > 1 for a in operands) <= 1


_NAMES: dict[int, str] = {}  # id of a guarded callable (original or wrapper) -> its dotted name
_KEEP: list[Any] = []  # the originals and wrappers _NAMES refers to, kept alive


def shell(fn: Callable[..., Any], like: Any) -> Any:
    """A callable that calls `fn` and that leads nowhere: a C object (functools' cache
    wrapper with no cache) with no `__closure__` or `__globals__`, whose `__wrapped__` is
    itself, so neither `fn` nor what `fn` can reach is an attribute away. Binds as a method
    like a function. (`__wrapped__` is kept, pointing nowhere new: torch._dynamo expects a
    cache wrapper to have one, and `inspect.unwrap` reports the loop instead of returning.)"""
    out: Any = functools.lru_cache(maxsize=0)(fn)
    for attr in ("cache_parameters", "__annotations__"):
        out.__dict__.pop(attr, None)
    out.__dict__["__wrapped__"] = out
    if hasattr(out, "__code__") or hasattr(out, "__closure__"):
        raise RuntimeError("functools has no C cache wrapper here; guards would leak")
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        value = getattr(like, attr, None)
        if isinstance(value, str):
            out.__dict__[attr] = value
    return out


def is_wrapper(obj: Any) -> bool:
    """Whether `obj` is a guard's wrapper (in the grading process, nothing ever is)."""
    return type(obj).__name__ == "_lru_cache_wrapper" and type(obj).__module__ == "functools"


def _wrap(original: Any, dotted: str) -> Any:
    if isinstance(original, type):
        init = original.__init__  # type: ignore[misc]
        # A class built by its __new__ alone (a namedtuple such as forward_ad's
        # UnpackedDualTensor) inherits object.__init__, which refuses arguments once the class
        # defines an __init__ of its own: the guard then calls it with none.
        bare = init is object.__init__

        def guarded_init(self: Any, *args: Any, **kwargs: Any) -> None:
            if STATE.armed:
                STATE.seen(dotted)
            if bare:
                init(self)
            else:
                init(self, *args, **kwargs)

        original.__init__ = shell(guarded_init, init)  # type: ignore[misc]
        return original

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not STATE.armed or dotted in STATE.active:
            return original(*args, **kwargs)
        # Counted once per call from outside: torch.einsum, say, calls itself again through
        # its module's own name (an alias this module wraps too), and that is not the student.
        STATE.seen(dotted, args, kwargs)
        STATE.active.add(dotted)
        try:
            return original(*args, **kwargs)
        finally:
            STATE.active.discard(dotted)

    return shell(guarded, original)


def install(patterns: list[str]) -> list[str]:
    """Wrap every callable the patterns name, wherever torch's modules hold it; return the names.
    Also installs the look-up guards (`sandbox/lookups.py`); runs in the zygote only."""
    from dlgrade.sandbox import lookups, output

    wrapped: dict[int, Any] = {}
    names: list[str] = []
    for pattern in patterns:
        for owner, attr, dotted in resolve(pattern):
            original = getattr(owner, attr)
            if is_wrapper(original):
                continue
            replacement = wrapped.get(id(original))
            if replacement is None:
                replacement = wrapped[id(original)] = _wrap(original, dotted)
                for obj in (original, replacement):
                    _NAMES.setdefault(id(obj), dotted)
                    _KEEP.append(obj)
            if replacement is not original:
                setattr(owner, attr, replacement)
            names.append(dotted)
    _replace_aliases(wrapped)
    _script_builtins(wrapped)
    lookups.install(STATE, shell)
    output.install_tensor_text(STATE, shell)
    return names


def _script_builtins(wrapped: dict[int, Any]) -> None:
    """TorchScript maps a torch function to its operator by identity; torch's own scripted
    code (forward AD's decompositions, loaded by the first `make_dual`) must find a wrapper
    where it finds its original. Students cannot script (the `sandbox` rules refuse torch.jit)."""
    table = getattr(sys.modules.get("torch.jit._builtins"), "_get_builtin_table", None)
    if table is None:
        return
    ops = table()
    for key, replacement in wrapped.items():
        op = ops.get(key)
        if op is not None:
            ops[id(replacement)] = op


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


def _torch_hooks(*, on: bool, no_grad: bool) -> None:
    """Push (or clear) the torch function mode that sees C entry points, and switch grad
    mode off for a call that may not use autograd (restored when the call is over)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    while torch._C._len_torch_function_stack():  # nothing of the student's survives a call
        torch._C._pop_torch_function_stack()
    if on:
        torch._C._push_on_torch_function_stack(_watch())
    if no_grad and STATE.grad_was is None:
        STATE.grad_was = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)
    elif not no_grad and STATE.grad_was is not None:
        torch._C._set_grad_enabled(STATE.grad_was)
        STATE.grad_was = None


@functools.cache
def _watch() -> Any:
    """The torch function mode of armed calls: each torch function, method or operator a
    call reaches, however it reached it, is `seen` under its guarded name, if it has one."""
    from torch.overrides import TorchFunctionMode

    def handle(mode: Any, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = _NAMES.get(id(func))
        if name is not None and STATE.armed and name not in STATE.active:
            STATE.seen(name, args, kwargs)
        return func(*args, **(kwargs or {}))

    watch = type("Watch", (TorchFunctionMode,), {"__torch_function__": shell(handle, handle)})
    return watch()
