"""A call of a student's function as graders see it: the request, what came back, and how it failed.

`StudentError` and its subclasses are the outcomes a call can have other than a normal return
(not started, raised, forbidden, timeout, crashed, import error); the engine raises them, the
checks and reporters read them. `Request` and `Call` are the plain data of one call; the model
solutions' side (engine.oracle) answers with the same `Call`.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from dlgrade.core.result import Outcome
from dlgrade.core.words import describe

# Exception names a hidden check may show: the built-in ones. A student's own class name
# could spell out a hidden input, so it is shown as "an exception" there.
PRINT_FLOOD = 10_000  # lines printed by a call that ran out of time: the message says so
_BUILTIN_EXCEPTIONS = frozenset(
    n
    for n in dir(builtins)
    if isinstance(getattr(builtins, n), type) and issubclass(getattr(builtins, n), BaseException)
)


class StudentError(Exception):
    """A call of student code did not return normally."""

    outcome: ClassVar[Outcome] = "raised"

    def public(self) -> str:
        return str(self)

    def hidden(self) -> str:
        return str(self)


class NotStarted(StudentError):
    outcome = "not_started"

    def __init__(self, fn: str, where: str) -> None:
        super().__init__(f"{fn} still raises NotImplementedError ({where})")
        self.fn = fn

    def hidden(self) -> str:
        return f"{self.fn} is not implemented yet"


class Raised(StudentError):
    outcome = "raised"

    def __init__(self, fn: str, call: str, type_name: str, message: str, where: str) -> None:
        at = f" at {where}" if where else ""
        super().__init__(
            f"{call} raised {type_name}: {message}{at}" if message else f"{call} raised {type_name}{at}"
        )
        self.fn = fn
        self.type_name = type_name if type_name in _BUILTIN_EXCEPTIONS else "an exception"

    def hidden(self) -> str:
        return f"{self.fn} raised {self.type_name}"


class Forbidden(StudentError):
    outcome = "forbidden"

    def __init__(self, fn: str, detail: str, where: str, why: str, hidden: str | None = None) -> None:
        at = f" at {where}" if where else ""
        super().__init__(f"{fn} {detail}{at}: {why}")
        self.fn = fn
        # A hidden check's words: the rule, without what the submission chose (a name, a line).
        self._hidden = f"{fn} {hidden}: {why}" if hidden is not None else str(self)

    def hidden(self) -> str:
        return self._hidden


class TimedOut(StudentError):
    outcome = "timeout"

    def __init__(self, fn: str, reason: str, printed: int = 0) -> None:
        if printed >= PRINT_FLOOD:
            super().__init__(
                f"{fn} printed at least {printed:,} lines before its time ran out ({reason}): printing that"
                " much is slow; print less"
            )
        else:
            super().__init__(f"{fn} {reason}; look for a loop that never ends or work that grows too fast")
        self.fn = fn

    def hidden(self) -> str:
        return f"{self.fn} ran out of time"


class Crashed(StudentError):
    outcome = "crashed"

    def __init__(self, fn: str, reason: str) -> None:
        super().__init__(f"the process running {fn} {reason}")
        self.fn = fn

    def hidden(self) -> str:
        return f"the process running {self.fn} ended during the call"


class ImportFailed(StudentError):
    outcome = "import_error"


class Abandoned(StudentError):
    """The sandbox broke (its zygote died or stopped) or the submission ran out of time."""

    outcome = "crashed"

    def __init__(self, fn: str, reason: str) -> None:
        super().__init__(f"{fn} could not be graded: {reason}")
        self.fn = fn

    def hidden(self) -> str:
        return f"{self.fn} could not be graded"


class NotRun(StudentError):
    outcome = "not_run"


@dataclass(frozen=True)
class Request:
    """One call of a student's function: the arguments, and what to backpropagate, if anything."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    wrt: tuple[int, ...] = ()
    grad_output: Any = None
    output: int | None = None


@dataclass(frozen=True)
class Call:
    """What one call returned: the value, the inputs as they were afterwards, gradients."""

    value: Any
    args_after: tuple[Any, ...]
    kwargs_after: dict[str, Any]
    grads: tuple[Any, ...] = ()
    detached: bool = False
    grad_error: str = ""


def describe_call(fn: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """'logsumexp(float32 tensor of shape (3,), dim=-2)' - the arguments in words."""

    def word(v: Any) -> str:
        if isinstance(v, torch.Tensor):
            return describe(v).removeprefix("a ")
        return repr(v) if isinstance(v, int | float | bool | str | None) else describe(v)

    parts = [word(a) for a in args] + [f"{k}={word(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


class Answers:
    """The interface graders call on both sides: `side.fn(*args)` answers a call,
    `side.grad(fn, *args, ...)` a call with gradients. The student's module (in the sandbox)
    and the model solutions (run, recorded or replayed) implement `gradient`; `grad` is
    declared once, here."""

    def grad(
        self,
        fn: str,
        *args: Any,
        wrt: tuple[int, ...] = (0,),
        grad_output: Any = None,
        output: int | None = None,
        **kwargs: Any,
    ) -> Call:
        """Call `fn` with `args[i]` (i in `wrt`) requiring grad and backpropagate `grad_output`
        (default: ones) through the result, or through its `output`-th item when `fn` returns
        a tuple; the gradients come back in `Call.grads`, in the order of `wrt`."""
        return self.gradient(fn, Request(args, kwargs, wrt, grad_output, output))

    def gradient(self, fn: str, request: Request) -> Call:
        raise NotImplementedError
