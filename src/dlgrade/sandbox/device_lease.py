"""The grader's side of a device worker (sandbox.device_worker): one worker per submission.

`SubmissionWorkers` stands in for the run's Sandbox: each exercise's `spawn` gets a `Lease` on
the submission's one device worker instead of a worker of its own. The first lease starts it
(a worker spec with `serves="submission"`). The worker serves one lease at a time; whenever it
turns to another (a new exercise, or one whose checks interleave with another's, as a grader's
`check_each` over several exercises does), the grader sends `next` with that exercise's module,
and the worker resets, checks and imports it afresh. A device worker that does not come back
`ready` or `import_error` (it found state it cannot reset and left, crashed, ran out of time,
broke the protocol) is replaced by a fresh one, which imports the module as any new worker does;
so is one that still owes answers of a pipeline stopped early, as a worker of its own would be.
Only a failure during a lease's own call is that exercise's (its worker "died"). Everything the
device worker sends is read by the same code as any worker's (handle.Worker): hostile input.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any

from dlgrade.sandbox import wire
from dlgrade.sandbox.handle import AFTER_IMPORT, Sender, Worker, WorkerDied, WorkerSpec
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
        self.active: Lease | None = None  # whose module the device worker holds now
        self.keys: dict[Lease, str] = {}  # the current device worker's key for each lease it served
        self.dropped: list[str] = []  # keys of leases closed since the last `next`
        self._numbers = itertools.count(1)
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
        self.active = None
        self.keys.clear()
        self.dropped.clear()
        if self.current is not None:
            self.current.close()
            self.current = None

    def take(self, lease: Lease, timeout: float) -> tuple[Worker, dict[str, Any]]:
        """The device worker turned to `lease`'s exercise (its module imported afresh), and the
        worker's answer to that import; a fresh device worker where the current one cannot."""
        if self.active is not None and self.active.owed > 0:
            self.retire()  # it still owes another exercise's answers
        worker, reply = self.current, None
        if worker is not None and worker.alive:
            key = self.keys.setdefault(lease, str(next(self._numbers)))
            turn = {"module": lease.spec.module, "key": key, "drop": self.dropped}
            reply = self._next(worker, turn, timeout)
            self.dropped = []
        if worker is None or reply is None:
            self.retire()
            spec = dataclasses.replace(lease.spec, memory_mb=self.memory_mb, serves=SUBMISSION)
            worker = self.current = self.base.spawn(spec)
            self.started += 1
            self.keys[lease] = ""  # the worker's first exercise
            reply = worker.hello(timeout)
        self.active = lease
        return worker, reply

    def _next(self, worker: Worker, turn: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        from dlgrade.core import codec

        deadline = time.monotonic() + timeout
        try:
            worker.sock.settimeout(timeout)
            worker.ruled.clear()  # the device worker forgets the rules it held (sandbox.call_rules)
            wire.send_frame(worker.sock, codec.encode({"op": "next", **turn}))
            reply, _ = worker._receive(deadline, timeout, AFTER_IMPORT, "while importing")
        except (TimeoutError, OSError, WorkerDied):  # it left (state it cannot reset), died or hung
            return None
        return reply


class Lease:
    """One exercise's use of the device worker, with the interface of a Worker."""

    def __init__(self, owner: SubmissionWorkers, spec: WorkerSpec) -> None:
        self.owner, self.spec = owner, spec
        self.isolation: dict[str, Any] = {}
        self.owed = 0  # answers of a pipeline not yet read
        self.limit = 10.0  # the exercise's time limit, from `hello`: what an import may take
        self.closed = self.dead = False

    @property
    def alive(self) -> bool:
        """Until closed, or a call of this exercise ended its device worker."""
        return not (self.closed or self.dead)

    def hello(self, timeout: float) -> dict[str, Any]:
        """As Worker.hello, for this exercise's module."""
        self.limit = timeout
        worker, reply = self.owner.take(self, timeout)
        self.isolation = dict(worker.isolation)
        return {**reply, "isolation": worker.isolation} if reply.get("kind") == "ready" else reply

    def _worker(self, timeout: float) -> Worker:
        """The device worker, holding this exercise's module (imported afresh if it turned away)."""
        current = self.owner.current
        if self.owner.active is self and current is not None and current.alive:
            return current
        worker, reply = self.owner.take(self, timeout)
        if reply.get("kind") != "ready":
            self.dead = True
            raise WorkerDied(f"could not import {self.spec.module}.py again")
        return worker

    def request(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        try:
            return self._worker(timeout).request(request, timeout)
        except WorkerDied:
            self.dead = True
            raise

    def pipeline(self, requests: list[dict[str, Any]]) -> Sender:
        worker = self._worker(self.limit)
        self.owed = len(requests)
        return worker.pipeline(requests)

    def receive(self, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        current = self.owner.current
        if self.owner.active is not self or current is None:
            self.dead = True
            raise WorkerDied("was turned to another exercise during a pipeline")
        try:
            answer = current.receive(timeout)
        except WorkerDied:
            self.dead = True
            raise
        self.owed -= 1
        return answer

    def close(self) -> None:
        """This exercise is done with the device worker; one that still owes its answers goes."""
        if self.closed:
            return
        self.closed = True
        key = self.owner.keys.pop(self, None)
        if key is not None:
            self.owner.dropped.append(key)  # the device worker may forget its module
        if self.owner.active is self:
            if self.owed > 0:
                self.owner.retire()
            self.owner.active = None
