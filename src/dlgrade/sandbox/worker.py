"""A sandbox worker: a forked child that imports one student module and runs calls on request.

It runs with its own session, a memory cap, stdin closed, output captured to a capped file and
an empty private working folder. It reads the submission's modules into memory (`sources.py`),
then confines itself with the kernel (`kernel.py`: identity, no_new_privs, Landlock, seccomp)
before any student code runs; the audit policy of `audit.py` and the call guards of `guards.py`
are a second line inside Python. It only ever sends plain data (see `codec.py`); the grader
judges it.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import torch

from dlgrade.core import codec
from dlgrade.sandbox import audit, call_rules, guards, kernel, resources, wire, workspace
from dlgrade.sandbox.output import CappedOutput
from dlgrade.sandbox.sources import SubmissionModules, guarded_import, read_sources, under_prefix

OUTPUT_NAME = "output.txt"


def serve(sock: socket.socket, spec: dict[str, Any], libc: Any) -> NoReturn:
    """Entry point in the freshly forked child; never returns."""
    code = 0
    try:
        workdir, sources = start(sock, spec, libc)
        prepare_imports(sock, spec, workdir, sources)
        module = import_module(sock, spec["module"], workdir, sources)
        if module is not None:
            _loop(sock, module, str(spec.get("device", "cpu")))
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def start(sock: socket.socket, spec: dict[str, Any], libc: Any) -> tuple[Path, dict[str, tuple[str, bytes]]]:
    """Isolate, read the sources, open the device, limit, confine, send `confined`: everything
    before the student's code. Returns the private folder and the sources."""
    workdir = _isolate(sock, spec, libc)
    sources = read_sources(spec["folder"])
    try:
        resources.open_device(str(spec.get("device", "cpu")))
    except Exception as exc:  # the driver's failure, whatever it raises
        _send(sock, {"kind": "device_error", "message": _first_line(exc) or type(exc).__name__})
        os._exit(72)
    resources.limit(int(spec["memory_mb"]), int(spec["output_bytes"]))  # on what a GPU driver mapped
    try:
        isolation = _confine(spec, workdir)
    except (kernel.ConfineError, OSError) as exc:
        _send(sock, {"kind": "confine_error", "message": str(exc)[:300]})
        os._exit(71)
    # The grader learns the isolation from this frame: sent before any student code runs.
    _send(sock, {"kind": "confined", "isolation": isolation})
    return workdir, sources


def _isolate(sock: socket.socket, spec: dict[str, Any], libc: Any) -> Path:
    os.setsid()
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the zygote
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    workdir = Path(spec["workroot"]) / str(os.getpid())
    workdir.mkdir(mode=0o700)
    workspace.apply(libc, str(workdir), spec.get("tasks_parent"))  # totals for folder and tasks
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(workdir / OUTPUT_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    # Python's own prints stop quietly at the cap (RLIMIT_FSIZE stops native writes there).
    sys.stdout = sys.stderr = CappedOutput(1, max(int(spec["output_bytes"]) - (64 << 10), 4096))
    os.chdir(workdir)
    os.environ.update({"HOME": str(workdir), "TMPDIR": str(workdir)})
    return workdir


def _confine(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    if not spec.get("confine", True):
        off = kernel.Applied(missing={layer: "turned off for this worker" for layer in kernel.LAYERS})
        return off.to_dict()
    gpu = torch.device(str(spec.get("device", "cpu"))).type != "cpu"
    return kernel.confine(spec["plan"], str(workdir), gpu=gpu).to_dict()


def prepare_imports(
    sock: socket.socket, spec: dict[str, Any], workdir: Path, sources: dict[str, tuple[str, bytes]]
) -> None:
    """Once per worker: the submission's modules importable from memory, under the guards."""
    folder = os.path.realpath(spec["folder"])
    guards.STATE.student_files = frozenset(path for path, _ in sources.values())
    guards.STATE.report = lambda v: _send(sock, {"kind": "violation", **v})
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p) and under_prefix(p)]
    sys.meta_path.insert(0, SubmissionModules(sources))
    builtins.__import__ = guarded_import(builtins.__import__, guards.STATE)
    roots = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        folder,
        str(workdir),
        *(os.path.dirname(os.path.dirname(m.__file__)) for m in (torch, codec) if m.__file__),
    ]
    if spec.get("audit", True):
        audit.install(roots, _on_deny(sock))


def import_module(sock: socket.socket, name: str, folder: Path, sources: dict[str, tuple[str, bytes]]) -> Any:
    """Import the student's module `name`; send `ready` (and return it) or `import_error`."""
    try:
        if name not in sources:
            raise ImportError(f"cannot read {name}.py (missing, not a regular file, or over 1 MiB)")
        sys.modules.pop(name, None)
        module = importlib.import_module(name)
    except guards.ForbiddenCall as exc:
        _send(sock, {"kind": "import_error", "message": f"forbidden at import: {exc}"})
        return None
    except BaseException as exc:
        _send(sock, {"kind": "import_error", "message": _describe(exc), "output": _output_tail(folder)})
        return None
    _send(sock, {"kind": "ready"})
    return module


def _on_deny(sock: socket.socket) -> Any:
    def on_deny(event: str, detail: str) -> None:
        where = guards.STATE.student_line()
        _send(
            sock,
            {
                "kind": "violation",
                "rule": "sandbox",
                "what": "audit",
                "call": event,
                "why": "graded code runs in a sandbox",
                "where": where,
                "detail": f"tried to {detail}",
            },
        )

    return on_deny


def _loop(sock: socket.socket, module: Any, device: str) -> None:
    while True:
        try:
            payload, _ = wire.recv_frame(sock)
        except wire.WireClosed:
            return
        try:
            request = codec.decode(payload, device=device)
        except codec.CodecError as exc:  # e.g. a tensor on a device this worker cannot use
            _send(sock, {"kind": "unreadable", "message": str(exc)[:300]})
            continue
        if request.get("op") != "call":
            return
        answer(sock, module, request)


def answer(sock: socket.socket, module: Any, request: dict[str, Any]) -> None:
    """Run one call of the student's function and send its reply, with what it printed."""
    out = sys.stdout if isinstance(sys.stdout, CappedOutput) else None
    if out is not None:
        out.take_recent()  # what earlier calls printed is not this call's
        out.progress = lambda lines: _send(sock, {"kind": "printing", "lines": lines})
    reply = _call(module, request)
    if out is not None:
        out.progress = None
        reply["printed"], reply["printed_lines"] = out.take_recent()
    _send(sock, reply)


def _call(module: Any, req: dict[str, Any]) -> dict[str, Any]:
    fn = getattr(module, req["fn"], None)
    if not callable(fn):
        return {"kind": "missing", "message": f"{req['fn']} is not defined in {module.__name__}.py"}
    args, kwargs = list(req["args"]), dict(req["kwargs"])
    wrt = req.get("wrt") or []
    for i in wrt:
        args[i] = args[i].detach().requires_grad_(True)
    rules = call_rules.of(req)
    if rules is None:  # the grader names rules it never sent: its own failure
        return {"kind": "unreadable", "message": f"a call of {req['fn']} without its rules"}
    forbid, bounds, watch = rules
    state = guards.STATE
    state.arm(dict(forbid), bounds, watch)
    try:
        value = fn(*args, **kwargs)
    except guards.ForbiddenCall:
        state.disarm(returned=False)
        return {"kind": "forbidden", "violations": state.violations}
    except BaseException as exc:
        violations = state.disarm(returned=False)
        if violations:
            return {"kind": "forbidden", "violations": violations}
        return _failure(exc)
    violations = state.disarm()
    if violations:
        return {"kind": "forbidden", "violations": violations}
    reply: dict[str, Any] = {"kind": "ok", "value": value, "inputs": [args, kwargs]}
    if wrt:
        out = _select(value, req.get("output"))
        reply.update(_grads(out, [args[i] for i in wrt], req.get("grad_output")))
    return reply


def _select(value: Any, output: Any) -> Any:
    """The part of the result to backpropagate through: all of it, or one item of a tuple."""
    if output is None:
        return value
    if isinstance(value, tuple | list) and type(output) is int and -len(value) <= output < len(value):
        return value[output]
    return None


def _grads(value: Any, leaves: list[torch.Tensor], grad_output: Any) -> dict[str, Any]:
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        return {"detached": True, "grads": [None] * len(leaves)}
    try:
        # sum(value * g) has gradient g with respect to value: the same vector-Jacobian
        # product as grad_outputs=g, without the lazy import (~1 s) that grad_outputs costs.
        target = value.sum() if grad_output is None else (value * grad_output).sum()
        grads = torch.autograd.grad(target, leaves, allow_unused=True)
    except BaseException as exc:
        return {"detached": False, "grads": [None] * len(leaves), "grad_error": _describe(exc)}
    return {"detached": False, "grads": list(grads)}


def _failure(exc: BaseException) -> dict[str, Any]:
    where = _student_where(exc.__traceback__)
    if isinstance(exc, NotImplementedError) and where:
        return {"kind": "not_implemented", "where": where}
    if isinstance(exc, SystemExit | KeyboardInterrupt | GeneratorExit):
        return {"kind": "exit", "type": type(exc).__name__, "message": str(exc)[:200], "where": where}
    return {"kind": "raised", "type": type(exc).__name__, "message": _first_line(exc), "where": where}


def _student_where(tb: Any) -> str:
    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename in guards.STATE.student_files:
            where = f"{os.path.basename(frame.f_code.co_filename)}:{lineno}"
    return where


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def _describe(exc: BaseException) -> str:
    line = ""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    where = _student_where(exc.__traceback__)
    if where:
        line = f" ({where})"
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}) while being imported{line}"
    return f"{type(exc).__name__}: {_first_line(exc)}{line}"


def _output_tail(workdir: Path, limit: int = 600) -> str:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        data = (workdir / OUTPUT_NAME).read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def _send(sock: socket.socket, obj: dict[str, Any]) -> None:
    try:
        payload = codec.encode(obj)
    except (codec.CodecError, RuntimeError, TypeError, ValueError) as exc:
        payload = codec.encode(
            {"kind": "raised", "type": "UnsendableResult", "message": str(exc)[:200], "where": ""}
        )
    wire.send_frame(sock, payload)
