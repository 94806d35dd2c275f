"""Look-ups by name from graded code: getattr, setattr and delattr refuse the denied names.

`getattr(fn, "__glob" + "als__")` builds a name no static rule can read. In a worker the three
built-ins are replaced by shells (see `guards.shell`) that, when the caller is the student's
own code, refuse the names listed here: private names, Python's internals (frames, function
internals, the class graph) and the ways to reach a function without naming it. The same
list feeds the static check of string constants in `dlgrade/engine/rules.py`.

A name looked up on `super(torch.Tensor, x)` while a call is guarded counts as a call of the
`torch.Tensor` method of that name: the C base's methods have no wrapper (`watch_plan.py`).
"""

from __future__ import annotations

import builtins
import fnmatch
import sys
from collections.abc import Callable
from typing import Any

# fnmatch patterns of `owner.name` (`?.name` when the owner is not a module)
DENIED_NAMES: tuple[str, ...] = (
    "*._[!_]*",  # private: torch._C, torch._VF, the guards' own state, ...
    "*.__globals__", "*.__closure__", "*.__code__", "*.__wrapped__", "*.__func__", "*.__self__",
    "*.__dict__", "*.__builtins__", "*.__subclasses__", "*.__bases__", "*.__base__", "*.__mro__",
    "*.__getattribute__", "*.__getattr__", "*.__setattr__", "*.__delattr__", "*.__reduce__",
    "*.__reduce_ex__", "*.__defaults__", "*.__kwdefaults__", "*.__loader__", "*.__spec__",
    "*.__import__", "*.__traceback__", "*.__torch_function__", "*.__torch_dispatch__",
    "*.f_back", "*.f_globals", "*.f_locals", "*.f_builtins", "*.tb_frame", "*.tb_next",
    "*.gi_frame", "*.cr_frame", "*.ag_frame", "*.cell_contents", "*.mro",
    "*.attrgetter", "*.methodcaller", "*sys.modules", "builtins.*",
)  # fmt: skip
WHY = "graded code runs in a sandbox and may not reach into the grader or Python's internals"


def denied(owner_name: str, name: str) -> bool:
    """Whether graded code may not look `name` up on an owner called `owner_name` ('?' when
    the owner is not a module)."""
    dotted = f"{owner_name}.{name}"
    return any(fnmatch.fnmatchcase(dotted, p) for p in DENIED_NAMES)


def _owner_name(obj: Any) -> str:
    if type(obj) is type(sys):
        name = obj.__dict__.get("__name__")
        return name if type(name) is str else "?"
    return "?"


def _tensor_super(obj: Any) -> bool:
    """`super(torch.Tensor, x)` (or a subclass's): its look-ups reach the C base's methods."""
    torch = sys.modules.get("torch")
    if type(obj) is not super or torch is None:
        return False
    this = super.__getattribute__(obj, "__thisclass__")
    return isinstance(this, type) and issubclass(this, torch.Tensor)


def install(state: Any, shell: Callable[[Callable[..., Any], Any], Any]) -> None:
    """Replace getattr, setattr and delattr by guarded shells (in the zygote, once)."""
    for verb in ("getattr", "setattr", "delattr"):
        real = getattr(builtins, verb)
        if type(real).__name__ == "builtin_function_or_method":
            setattr(builtins, verb, shell(_guarded(real, verb, state), real))


def _guarded(real: Callable[..., Any], verb: str, state: Any) -> Callable[..., Any]:
    def lookup(obj: Any, name: Any, *rest: Any) -> Any:
        if isinstance(name, str):
            name = str.__str__(name)  # a str subclass cannot lie about what it spells
            files = state.student_files
            if files and sys._getframe(1).f_code.co_filename in files:
                if denied(_owner_name(obj), name):
                    state.violate("sandbox", WHY, f"looks up {name!r} with {verb}", what=verb, call=name)
                if state.armed and _tensor_super(obj):  # torch._C.TensorBase's method, past any wrapper
                    state.seen(f"torch.Tensor.{name}")
        return real(obj, name, *rest)

    return lookup
