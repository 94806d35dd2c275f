"""A device worker: one worker that serves one submission's exercises in turn (`--device cuda`).

CUDA does not survive a fork, so a GPU cannot be opened once in the zygote for every worker;
a worker that opens it pays for a context (about 0.4 s). A device worker opens the device once,
confines itself exactly as a worker does (worker.start), and then serves the exercises of one
submission, one at a time: `next` (a module and the grader's key for the exercise) checks what
cannot be put back (device_baseline.Baseline.changed), puts back the rest (`restore`), and
imports the module afresh, or, for an exercise it served before (their checks interleave),
takes back that exercise's module and generators as it left them; `call` runs a call as a
worker does. When something cannot be put back (an attribute of torch, numpy, builtins or a
class of theirs replaced, added or removed; a thread left running), it sends nothing and exits:
the grader starts a fresh device worker for what is left (sandbox.device_lease). What it
checks runs in the same process as student code: a second line, like the guards
(docs/sandbox.md, "One device worker per submission").
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import sys
from pathlib import Path
from typing import Any, NoReturn

from dlgrade.core import codec
from dlgrade.sandbox import call_rules, guards, wire, worker
from dlgrade.sandbox.device_baseline import Baseline

TAMPERED = 75  # the exit status of a device worker that found state it cannot reset


def serve(sock: socket.socket, spec: dict[str, Any], libc: Any) -> NoReturn:
    """Entry point in the freshly forked child (the zygote's `spawn` with `serves`); never returns."""
    code = 0
    try:
        workdir, sources = worker.start(sock, spec, libc)
        worker.prepare_imports(sock, spec, workdir, sources)
        device = str(spec.get("device", "cpu"))
        baseline = Baseline(device, workdir)
        module = worker.import_module(sock, spec["module"], workdir, sources)
        # The exercises it turned from, by the grader's key: module, submission modules, states.
        held: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {}
        key = ""  # the first exercise's
        while True:
            try:
                payload, _ = wire.recv_frame(sock)
            except wire.WireClosed:
                break
            try:
                request = codec.decode(payload, device=device)
            except codec.CodecError as exc:
                worker._send(sock, {"kind": "unreadable", "message": str(exc)[:300]})
                continue
            op = request.get("op") if isinstance(request, dict) else None
            if op == "call" and module is not None:
                worker.answer(sock, module, request)
            elif op == "call":
                worker._send(sock, {"kind": "missing", "message": "no module is imported"})
            elif op == "next" and isinstance(request.get("module"), str):
                if baseline.changed():  # checked first: restoring calls torch's own functions
                    code = TAMPERED
                    break
                if module is not None:  # the exercise it turns from, to turn back to
                    held[key] = (module, _submission_modules(sources), baseline.capture())
                for done in request.get("drop") or ():
                    held.pop(str(done), None)
                baseline.restore()
                call_rules.forget()
                _forget_submission(sources)
                key = str(request.get("key", ""))
                if key in held:  # back to an exercise: its module and generators as it left them
                    module, entries, states = held.pop(key)
                    sys.modules.update(entries)
                    baseline.apply(states)
                    worker._send(sock, {"kind": "ready"})
                else:
                    module = _import(sock, request["module"], workdir, sources)
            else:
                break
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _import(sock: socket.socket, name: str, workdir: Path, sources: dict[str, tuple[str, bytes]]) -> Any:
    """worker.import_module, where what an import error shows of the output is this import's."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    start = os.fstat(1).st_size
    try:
        if name not in sources:
            raise ImportError(f"cannot read {name}.py (missing, not a regular file, or over 1 MiB)")
        module = importlib.import_module(name)
    except guards.ForbiddenCall as exc:
        worker._send(sock, {"kind": "import_error", "message": f"forbidden at import: {exc}"})
        return None
    except BaseException as exc:
        output = worker._output_tail(workdir)
        printed = output[-max(os.fstat(1).st_size - start, 0) :] if os.fstat(1).st_size > start else ""
        worker._send(sock, {"kind": "import_error", "message": worker._describe(exc), "output": printed})
        return None
    worker._send(sock, {"kind": "ready"})
    return module


def _submission_modules(sources: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    return {n: m for n, m in sys.modules.items() if n.split(".")[0] in sources}


def _forget_submission(sources: dict[str, tuple[str, bytes]]) -> None:
    """The submission's modules are imported afresh for each exercise."""
    for name in list(sys.modules):
        if name.split(".")[0] in sources:
            del sys.modules[name]
