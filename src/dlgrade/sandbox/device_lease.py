"""The grader's side of a device worker (sandbox.device_worker): one worker per submission.

`SubmissionWorkers` stands in for the run's Sandbox: each exercise's `spawn` gets a `Lease` on
the submission's one device worker instead of a worker of its own. The first lease starts it
(a worker spec with `serves="submission"`); each later one sends `next` with its module, and
the worker resets, checks and imports it afresh. A device worker that does not come back
`ready` or `import_error` for the next exercise (it found state it cannot reset and left,
crashed, ran out of time, broke the protocol) is replaced by a fresh one, which imports the
module as any new worker does. A lease closed while its worker still owes answers (a pipeline
stopped early) retires that worker too, as a worker of its own would be. Everything the device
worker sends is read by the same code as any worker's (handle.Worker): hostile input.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from dlgrade.sandbox import wire
from dlgrade.sandbox.handle import AFTER_IMPORT, Worker, WorkerDied, WorkerSpec
from dlgrade.sandbox.pool import Sandbox

SUBMISSION = "submission"


class SubmissionWorkers:
    """A Sandbox for one submission's grading run whose exercises share one device worker.

    Everything but spawning is the underlying sandbox's. `started` is the grading process's
    own count of the device workers it started for the submission (the workers cannot touch it).
    """

    def __init__(self, base: Sandbox, memory_mb: int) -> None:
        self.base = base
        self.memory_mb = memory_mb  # the largest of the submission's exercises' caps
        self.current: Worker | None = None
        self.started = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    @property
    def isolation(self) -> dict[str, Any]:
        return self.base.isolation

    @isolation.setter
    def isolation(self, value: dict[str, Any]) -> None:
        self.base.isolation = value

    def spawn(self, spec: WorkerSpec, key: str = "") -> Lease:
        return Lease(self, spec)

    def prespawn(self, spec: WorkerSpec, key: str = "") -> None:
        """Nothing: the device worker is busy with the exercise before."""

    def release_spares(self) -> None:
        """The run is over: its device worker goes (it never serves another submission)."""
        self.retire()
        self.base.release_spares()

    def retire(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def fresh(self, spec: WorkerSpec) -> Worker:
        """A new device worker for what is left of the submission, importing `spec`'s module."""
        self.retire()
        spec = dataclasses.replace(spec, memory_mb=self.memory_mb, serves=SUBMISSION)
        self.current = self.base.spawn(spec)
        self.started += 1
        return self.current


class Lease:
    """One exercise's use of the device worker, with the interface of a Worker."""

    def __init__(self, owner: SubmissionWorkers, spec: WorkerSpec) -> None:
        self.owner, self.spec = owner, spec
        self.worker: Worker | None = None
        self.isolation: dict[str, Any] = {}
        self.owed = 0  # answers of a pipeline not yet read
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed and self.worker is not None and self.worker.alive

    def hello(self, timeout: float) -> dict[str, Any]:
        """As Worker.hello, for this exercise's module: in the device worker if it comes back
        ready for it, else in a fresh one."""
        current = self.owner.current
        reply = self._next(current, timeout) if current is not None and current.alive else None
        if current is None or reply is None:
            current = self.owner.fresh(self.spec)
            reply = current.hello(timeout)
        self.worker, self.isolation = current, dict(current.isolation)
        return {**reply, "isolation": current.isolation} if reply.get("kind") == "ready" else reply

    def _next(self, worker: Worker, timeout: float) -> dict[str, Any] | None:
        from dlgrade.core import codec

        deadline = time.monotonic() + timeout
        try:
            worker.sock.settimeout(timeout)
            wire.send_frame(worker.sock, codec.encode({"op": "next", "module": self.spec.module}))
            reply, _ = worker._receive(deadline, timeout, AFTER_IMPORT, "while importing")
        except (TimeoutError, OSError, WorkerDied):  # it left (state it cannot reset), died or hung
            self.owner.retire()
            return None
        return reply

    def _live(self) -> Worker:
        if self.worker is None:
            raise WorkerDied("was not started")
        return self.worker

    def request(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return self._live().request(request, timeout)

    def pipeline(self, requests: list[dict[str, Any]]) -> threading.Thread:
        self.owed = len(requests)
        return self._live().pipeline(requests)

    def receive(self, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        answer = self._live().receive(timeout)
        self.owed -= 1
        return answer

    def close(self) -> None:
        """This exercise is done with the device worker; one that still owes answers goes."""
        if self.closed:
            return
        self.closed = True
        if self.owed > 0 and self.worker is not None and self.worker is self.owner.current:
            self.owner.retire()
