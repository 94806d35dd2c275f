"""What a device worker (sandbox.device_worker) puts back between exercises, and what it checks.

`Baseline` records the process before any student code ran: `restore` puts back what can be
put back, `changed` names what cannot and differs, `capture` and `apply` keep an exercise's own
generators, grad mode and default dtype while the worker serves another (docs/sandbox.md,
"One device worker per submission"). It runs in the process that ran student code: a second
line, like the guards.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
import types
from pathlib import Path
from typing import Any

import torch

from dlgrade.sandbox import worker
from dlgrade.sandbox.output import CappedOutput

# Modules whose attributes one exercise's code could change for the next one's.
WATCHED = (
    "builtins",
    "math",
    "random",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.nn.init",
    "torch.linalg",
    "torch.autograd",
    "torch.special",
    "torch.fft",
    "torch.random",
    "numpy",
    "numpy.linalg",
    "numpy.random",
)
# Torch's own flags that change results (restored, not checked).
_FLAGS = (
    ("torch.backends.cudnn", "enabled"),
    ("torch.backends.cudnn", "benchmark"),
    ("torch.backends.cudnn", "deterministic"),
    ("torch.backends.cudnn", "allow_tf32"),
    ("torch.backends.cuda.matmul", "allow_tf32"),
)


def identities() -> tuple[dict[str, object], dict[str, tuple[object, ...]]]:
    """Every attribute of the watched modules and of torch's Tensor, Module and Parameter; and
    what each Python function among them runs (its code, defaults): a change in place counts too."""
    values: dict[str, object] = {}
    runs: dict[str, tuple[object, ...]] = {}
    owners: list[tuple[str, Any]] = [(n, sys.modules[n]) for n in WATCHED if n in sys.modules]
    owners += [(f"torch.{c.__name__}", c) for c in (torch.Tensor, torch.nn.Module, torch.nn.Parameter)]
    for prefix, owner in owners:
        for key, value in list(vars(owner).items()):
            name = f"{prefix}.{key}"
            values[name] = value
            inner = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            if isinstance(inner, types.FunctionType):  # no lookups on other objects (torch.ops)
                runs[name] = (inner.__code__, inner.__defaults__, inner.__kwdefaults__)
    return values, runs


class Baseline:
    """What the process looked like before any student code ran, to restore and compare with."""

    def __init__(self, device: str, workdir: Path) -> None:
        self.device, self.workdir = device, workdir
        for name in WATCHED:  # all of them loaded now: what the next exercise finds is compared
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        self.threads = set(threading.enumerate())
        self.grad = torch.is_grad_enabled()
        self.dtype = torch.get_default_dtype()
        self.torch_rng = torch.random.get_rng_state()
        self.cuda = torch.device(device).type == "cuda"
        self.cuda_rng = torch.cuda.get_rng_state_all() if self.cuda else []
        self.threads_n = torch.get_num_threads()
        self.deterministic = torch.are_deterministic_algorithms_enabled()
        self.anomaly = torch.is_anomaly_enabled()
        self.precision = torch.get_float32_matmul_precision()
        self.flags = {(m, a): getattr(sys.modules[m], a) for m, a in _FLAGS if m in sys.modules}
        self.print_opts = dict(vars(torch._tensor_str.PRINT_OPTS))
        self.functions = torch._C._len_torch_function_stack()
        self.dispatch = torch._C._len_torch_dispatch_stack()
        self.numpy = _numpy_state()
        self.random = sys.modules["random"].getstate() if "random" in sys.modules else None
        self.sys_state = (list(sys.path), list(sys.meta_path), sys.getrecursionlimit())
        self.streams = (sys.stdout, sys.stderr)
        self.environ = dict(os.environ)
        self.handlers = {s: signal.getsignal(s) for s in _catchable()}
        self.attributes = identities()  # last: the calls above may fill torch's lazy attributes

    def capture(self) -> dict[str, Any]:
        """What an exercise's own calls carry from one check to the next in a worker of its own:
        the random generators, grad mode and default dtype (`apply` puts them back)."""
        numpy = sys.modules.get("numpy")
        return {
            "torch": torch.random.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if self.cuda else [],
            "numpy": numpy.random.get_state() if numpy is not None else None,
            "random": sys.modules["random"].getstate() if "random" in sys.modules else None,
            "grad": torch.is_grad_enabled(),
            "dtype": torch.get_default_dtype(),
        }

    def apply(self, states: dict[str, Any]) -> None:
        torch.random.set_rng_state(states["torch"])
        if self.cuda:
            torch.cuda.set_rng_state_all(states["cuda"])
        if states["numpy"] is not None:
            sys.modules["numpy"].random.set_state(states["numpy"])
        if states["random"] is not None:
            sys.modules["random"].setstate(states["random"])
        torch.set_grad_enabled(states["grad"])
        torch.set_default_dtype(states["dtype"])

    def restore(self) -> None:
        """Put back everything that can be put back: torch's modes, flags and generators,
        numpy's and random's, the interpreter's settings, signals, the folder, the output."""
        while torch._C._len_torch_function_stack() > self.functions:
            torch._C._pop_torch_function_stack()
        while torch._C._len_torch_dispatch_stack() > self.dispatch:
            torch._C._pop_torch_dispatch_stack()
        torch.set_grad_enabled(self.grad)
        torch.set_default_dtype(self.dtype)
        torch.random.set_rng_state(self.torch_rng)
        if self.cuda:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        if torch.get_num_threads() != self.threads_n:
            torch.set_num_threads(self.threads_n)
        if torch.are_deterministic_algorithms_enabled() != self.deterministic:  # imports inductor
            torch.use_deterministic_algorithms(self.deterministic)
        torch.set_anomaly_enabled(self.anomaly)
        torch.set_float32_matmul_precision(self.precision)
        for (module, attr), value in self.flags.items():
            setattr(sys.modules[module], attr, value)
        vars(torch._tensor_str.PRINT_OPTS).update(self.print_opts)
        _restore_numpy(self.numpy)
        if self.random is not None:
            sys.modules["random"].setstate(self.random)
        sys.path[:], sys.meta_path[:] = self.sys_state[0], self.sys_state[1]
        sys.setrecursionlimit(self.sys_state[2])
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        sys.stdout, sys.stderr = self.streams
        os.environ.clear()
        os.environ.update(self.environ)
        signal.alarm(0)
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        for sig, handler in self.handlers.items():
            if handler is not None:  # None: set outside Python, left as it is
                signal.signal(sig, handler)
        os.chdir(self.workdir)
        if isinstance(self.streams[0], CappedOutput):
            self.streams[0].take_recent()  # what the last exercise printed is not the next one's

    def changed(self) -> list[str]:
        """What cannot be put back and differs: attributes replaced, added or removed (a
        submodule that torch or numpy imported meanwhile is not a change), threads left running."""
        (values, runs), (then, ran) = identities(), self.attributes
        found = [k for k, v in then.items() if values.get(k, _MISSING) is not v]
        found += [k for k, v in ran.items() if k not in found and not _same(runs.get(k), v)]
        found += [k for k, v in values.items() if k not in then and not _submodule(k, v)]
        if any(t.is_alive() for t in set(threading.enumerate()) - self.threads):
            found.append("a thread")
        if torch.is_inference_mode_enabled():
            found.append("inference mode")
        # Files in the private folder (only native code can write them: the audit hook stops
        # Python's writes, and its removals, so they cannot be removed here either), and an
        # output file half full (the next exercise's prints could find no room).
        found += [e.name for e in os.scandir(self.workdir) if e.name != worker.OUTPUT_NAME]
        out = self.streams[0]
        if isinstance(out, CappedOutput) and out.sink.used > out.sink.cap // 2:
            found.append("the output file")
        return found


_MISSING = object()


def _same(now: tuple[object, ...] | None, then: tuple[object, ...]) -> bool:
    return now is not None and all(a is b for a, b in zip(now, then, strict=True))


def _submodule(key: str, value: object) -> bool:
    return isinstance(value, types.ModuleType) and sys.modules.get(key) is value


def _catchable() -> list[signal.Signals]:
    skip = {signal.SIGKILL, signal.SIGSTOP}
    return [s for s in signal.valid_signals() if isinstance(s, signal.Signals) and s not in skip]


def _numpy_state() -> Any:
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return None
    return numpy.random.get_state(), numpy.geterr(), numpy.get_printoptions()


def _restore_numpy(state: Any) -> None:
    numpy = sys.modules.get("numpy")
    if numpy is None or state is None:
        return
    numpy.random.set_state(state[0])
    numpy.seterr(**state[1])
    numpy.set_printoptions(**state[2])
