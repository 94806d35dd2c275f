"""The grader's side of the sandbox: start the zygote, spawn and reap workers (sandbox.handle
talks to each worker), and the errors that mean the sandbox itself failed.

Importing this module does not import torch, so `grade` can start the zygote (which imports
torch) first and import torch itself while the zygote does.
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from dlgrade.sandbox import preload, wire
from dlgrade.sandbox.handle import Worker, WorkerSpec
from dlgrade.sandbox.zygote_env import minimal_env, undumpable

START_TIMEOUT = 180.0
REPLY_TIMEOUT = 10.0  # the zygote answers a spawn, reap or sweep in milliseconds; 10 s means it is stuck


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the student's code): an engine failure."""


class SandboxBroken(SandboxError):
    """The zygote died, stopped answering, or grading ran past the submission's deadline.

    The submission in progress gets `error` for what is left; the next one gets a new zygote.
    """


class Sandbox:
    """One zygote process and the workers forked from it."""

    def __init__(
        self,
        guard_patterns: list[str],
        python: str = sys.executable,
        *,
        confine: bool = True,
        audit: bool = True,
    ) -> None:
        self.guard_patterns = sorted(set(guard_patterns))
        self.confine, self.audit = confine, audit  # False only in tests of the layers behind them
        self._python = python
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl: socket.socket | None = None
        self.ready = False  # the zygote said hello: a spawn waits for nothing but the fork
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the zygote
        self.installed_guards: list[str] = []
        # Kernel layers (kernel.Applied.to_dict): the zygote's at each `admit`, then the run's workers'.
        self.isolation: dict[str, Any] = {}
        self._assessed: dict[str, Any] = {}  # the zygote's assessment, from its hello
        self.received = 0  # bytes the workers of this grading run sent (handle.RECEIVE_BUDGET)
        self.read_roots: list[str] = []  # what a worker may read
        self.broken = ""  # why the zygote can no longer be used; "" while it can
        self.deadline: float | None = None  # time.monotonic() by which the submission must be done
        # Called before the first worker of a grading run (dlgrade.sandbox.policy); may refuse (SandboxError).
        self.admission: Callable[[Sandbox], None] | None = None
        # Workers started ahead of need (`prespawn`), by spec and exercise, importing meanwhile.
        self._spares: dict[tuple[WorkerSpec, str], Worker] = {}
        self._unanswered: collections.deque[Worker] = collections.deque()  # spawns sent, pid not read

    def start(self) -> None:
        """Start the zygote without waiting: it imports torch while the grader does too."""
        if self._proc is not None:
            return
        undumpable()
        ours, theirs = socket.socketpair()
        self._proc = subprocess.Popen(
            [self._python, "-I", "-m", "dlgrade.sandbox.zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=minimal_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
            cwd=tempfile.gettempdir(),
        )
        theirs.close()
        self._ctl = ours
        wire.send_json(ours, {"guards": self.guard_patterns})

    def _ensure_ready(self) -> socket.socket:
        self.start()
        assert self._ctl is not None
        if not self.ready:
            try:
                hello, _ = wire.recv_json(self._ctl, time.monotonic() + START_TIMEOUT)
            except (wire.WireClosed, wire.WireTimeout) as exc:
                raise SandboxError(f"the sandbox did not start ({exc}): {self._stderr_tail()}") from None
            self.installed_guards = list(hello.get("guards", []))
            self._assessed = dict(hello.get("isolation", {}))
            self.isolation = dict(self._assessed)
            self.read_roots = [str(r) for r in hello.get("read", [])]
            self.ready = True
        return self._ctl

    def up(self) -> bool:
        """Whether the zygote is ready, reading its hello if it has come; never waits (a head
        start is taken only from a zygote that is up: engine.session.head_start)."""
        with self._lock:
            try:
                if not self.ready and self._ctl is not None and select.select([self._ctl], [], [], 0)[0]:
                    self._ensure_ready()
            except SandboxError:
                return False  # the run's first spawn says why
            return self.ready and not self.broken

    def admit(self) -> None:
        """Wait for the zygote, then let `admission` refuse a run it cannot contain."""
        with self._lock:
            self._ensure_ready()
            self.isolation, self.received = dict(self._assessed), 0  # nothing carries over from a run
        if self.admission is not None:
            self.admission(self)

    def _reply_deadline(self, seconds: float = REPLY_TIMEOUT) -> float:
        """When a zygote's answer is overdue: `seconds` from now, or the submission's deadline."""
        self._check_usable()
        deadline = time.monotonic() + seconds
        return deadline if self.deadline is None else min(deadline, self.deadline)

    def _check_usable(self) -> None:
        if self.broken:
            raise SandboxBroken(self.broken)
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.mark_broken("grading ran past this submission's overall deadline")
            raise SandboxBroken(self.broken)

    def mark_broken(self, reason: str) -> None:
        """Stop using this zygote: kill it and everything it started (it may be stopped)."""
        if not self.broken:
            self.broken = reason
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    def _stuck(self, exc: BaseException) -> SandboxBroken:
        overdue = self.deadline is not None and time.monotonic() >= self.deadline
        reason = "grading ran past this submission's overall deadline" if overdue else None
        self.mark_broken(reason or f"the sandbox stopped answering ({type(exc).__name__})")
        return SandboxBroken(self.broken)

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def prespawn(self, spec: WorkerSpec, key: str = "") -> None:
        """Start a worker for `spec` now, for a later `spawn(spec, key)` to hand out (`key`: whom
        it is for, say an exercise, so that another user of the same spec does not take it);
        without waiting for the zygote's answer (the pid): the zygote forks while the grader goes on."""
        if (spec, key) not in self._spares:
            self._spares[(spec, key)] = self._spawn(spec, wait=False)

    def release_spares(self) -> None:
        """Stop every worker started ahead of need (a later run may see changed files)."""
        spares, self._spares = list(self._spares.values()), {}
        for worker in spares:
            worker.close()

    def spawn(self, spec: WorkerSpec, key: str = "") -> Worker:
        spare = self._spares.pop((spec, key), None)
        if spare is not None and spare.alive:
            return spare
        return self._spawn(spec)

    def _spawn(self, spec: WorkerSpec, wait: bool = True) -> Worker:
        with self._lock:
            ctl = self._ensure_ready()
            self._check_usable()
            ours, theirs = socket.socketpair()
            try:
                wire.send_json(
                    ctl,
                    {
                        "op": "spawn",
                        "folder": spec.folder,
                        "module": spec.module,
                        "memory_mb": spec.memory_mb,
                        "output_bytes": spec.output_bytes,
                        "audit": spec.audit and self.audit,
                        "confine": spec.confine and self.confine,
                        "device": spec.device,
                        "serves": spec.serves,  # "submission": a device worker (sandbox.device_worker)
                        "preload": preload.wanted(spec.folder, spec.module),
                    },
                    fds=(theirs.fileno(),),
                )
            except OSError as exc:
                raise self._stuck(exc) from None
            finally:
                theirs.close()
            worker = Worker(self, None, ours, spec.device)
            self._unanswered.append(worker)
            if wait:
                self._settle()
        return worker

    def _settle(self) -> None:
        """Read the zygote's answers to spawns sent without waiting (call with the lock held)."""
        while self._unanswered:
            assert self._ctl is not None
            try:
                reply, _ = wire.recv_json(self._ctl, self._reply_deadline())
            except (wire.WireClosed, wire.WireTimeout, OSError) as exc:
                raise self._stuck(exc) from None
            self._unanswered.popleft()._pid = int(reply["pid"])

    def pid_of(self, worker: Worker) -> int:
        if worker._pid is None:
            with self._lock:
                self._settle()
        assert worker._pid is not None
        return worker._pid

    def reap(self, pid: int) -> int | None:
        """Kill a worker and everything it started; return its wait status if known."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with self._lock:
            if self._ctl is None:
                return None
            try:
                self._settle()
                wire.send_json(self._ctl, {"op": "reap", "pid": pid})
                reply, _ = wire.recv_json(self._ctl, self._reply_deadline())
            except (wire.WireClosed, wire.WireTimeout, OSError) as exc:
                raise self._stuck(exc) from None
        status = reply.get("status")
        return None if status is None else int(status)

    def release(self, pid: int) -> None:
        """Kill a worker the grader is done with; the zygote reaps it (and strays) in its own time."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with self._lock:
            if self._ctl is None or self.broken:  # a broken zygote's workers die with it
                return
            try:
                wire.send_json(self._ctl, {"op": "release", "pid": pid})
            except (wire.WireClosed, OSError) as exc:
                raise self._stuck(exc) from None

    def sweep(self) -> None:
        """Return once every process but the live workers is gone (strays, released workers)."""
        with self._lock:
            if self._ctl is None or not self.ready or self.broken:
                return
            try:
                self._settle()
                wire.send_json(self._ctl, {"op": "sweep"})
                wire.recv_json(self._ctl, self._reply_deadline())
            except (wire.WireClosed, wire.WireTimeout, OSError) as exc:
                raise self._stuck(exc) from None

    def close(self) -> None:
        """Stop the zygote; it kills every worker and stray process before it exits."""
        self._spares.clear()  # their processes go with the zygote
        self._unanswered.clear()
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self._proc.pid, signal.SIGKILL)
                    self._proc.wait()
                self._proc = None
            self.ready = False
            self.broken = ""  # a later start() begins with a new zygote
