"""Long-lived grading processes that grade many submissions each, in parallel.

Each process pays for importing torch and starting its sandbox once, then grades submission
after submission. The parent hands out one submission at a time, so a slow one never holds up
the rest; a process that dies or overruns its submission's time is killed and replaced, and
that submission's row says so. Nothing a submission does can stop the batch.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from dlgrade.batch.entries import Entry, Row
from dlgrade.core.manifest import Course
from dlgrade.engine.sandboxes import course_sandbox, private_paths
from dlgrade.sandbox.pool import Sandbox

# spawn: a fresh interpreter, no threads or locks inherited from the parent (rich's progress
# bar runs a thread); each process then imports torch once.
_CTX = mp.get_context("spawn")
# Added to the first submission's time in each process: importing torch, starting the sandbox.
STARTUP_ALLOWANCE = 180.0
READY = "ready"
REFUSED = "refused"  # then why: the kernel cannot contain the workers (`_refusal`)
MAX_EARLY_DEATHS = 3


@dataclass(frozen=True)
class Job:
    course_root: str
    names: tuple[str, ...]
    workdir: str
    device: str = "cpu"


def serve(conn: Connection, job: Job) -> None:
    """The grading process: say when ready, then grade each Entry sent and answer with its Row."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing printed may reach the parent's stdout
    from dlgrade.core.manifest import load_course
    from dlgrade.sandbox.pool import SandboxError

    course = load_course(Path(job.course_root))
    box = course_sandbox(course, fresh=True)
    box.start()  # the zygote imports torch while this process does
    from dlgrade.core.imports import heavy_imports

    with heavy_imports():
        import dlgrade.engine.runner  # noqa: F401 - torch and pytest, before the clock starts
    from dlgrade.batch.entries import grade_entry

    refused = _refusal(course, box)
    if refused:
        conn.send((REFUSED, refused))
        box.close()
        return
    conn.send(READY)
    while True:
        try:
            entry = conn.recv()
        except EOFError:
            break
        if entry is None:
            break
        try:
            row = grade_entry(
                course, entry, job.names, sandbox=box, workdir=Path(job.workdir), device=job.device
            )
        except SandboxError as exc:
            row = Row(entry.id, "error", f"sandbox failure: {exc}")
            box.close()
            box = course_sandbox(course, fresh=True)
        except Exception as exc:  # an engine bug must cost one row, not the batch
            row = Row(entry.id, "error", f"engine failure: {type(exc).__name__}: {exc}")
        conn.send(row.to_dict())
    box.close()


def _refusal(course: Course, box: Sandbox) -> str:
    """Under `--containment require` (a batch's default): why the kernel cannot contain this
    process's workers, found by one real worker before any submission is graded; "" when it can
    (or when a warning is all that is asked). Each process tries its own zygote: no other
    process starts torch for the probe, and the batch stops before grading anything."""
    from dlgrade.sandbox import policy

    if policy.mode() != "require":
        return ""
    found = policy.tried(box, private_paths(course))
    return policy.unavailable(found) if found else ""


class _Slot:
    """One grading process and the submission it is grading, if any."""

    def __init__(self, job: Job) -> None:
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=serve, args=(child, job), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.entry: Entry | None = None
        self.deadline = 0.0

    def give(self, entry: Entry, timeout: float) -> None:
        """Send one submission; its clock starts now, or once the process is ready."""
        self.conn.send(entry)
        self.entry = entry
        self.deadline = time.monotonic() + timeout + (0.0 if self.ready else STARTUP_ALLOWANCE)

    def receive(self, timeout: float) -> tuple[Row | None, bool]:
        """(the finished row or None, whether this process can grade more)."""
        assert self.entry is not None
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(5)
            code = self.proc.exitcode
            why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            return self._finish(f"the grading process ended ({why}) while grading it"), False
        if message == READY:
            self.ready, self.deadline = True, time.monotonic() + timeout
            return None, True
        if isinstance(message, tuple) and message[:1] == (REFUSED,):
            raise PoolError(str(message[1]))  # containment required and missing: grade nothing
        self.entry = None
        return Row.from_dict(message), True

    def _finish(self, reason: str) -> Row:
        assert self.entry is not None
        entry, self.entry = self.entry, None
        return Row(entry.id, "error", reason)

    def overran(self, timeout: float) -> Row:
        row = self._finish(f"grading took longer than {timeout:g} s; stopped")
        self.kill()
        return row

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.proc.join(20)
        self.kill()


class PoolError(RuntimeError):
    """Grading processes keep dying before they are ready: the engine cannot grade at all."""


class _Pool:
    """Hands out submissions one at a time to the slots and collects their rows."""

    def __init__(self, job: Job, entries: list[Entry], processes: int, timeout: float) -> None:
        self.job, self.timeout = job, timeout
        self.pending = deque(entries)
        self.rows: dict[str, Row] = {}
        self.slots = [_Slot(job) for _ in range(max(1, min(processes, len(entries))))]
        self.early_deaths = 0  # in a row: processes that died before saying they were ready

    def hand_out(self, i: int) -> None:
        """Give slot i the next submission, replacing the process if it cannot take it."""
        while self.pending:
            slot = self.slots[i]
            if not slot.proc.is_alive():
                self.replace(i)
                continue
            try:
                slot.give(self.pending[0], self.timeout)
            except OSError:  # it died just now; the submission goes to a fresh process
                self.replace(i)
                continue
            self.pending.popleft()
            return

    def replace(self, i: int) -> None:
        slot = self.slots[i]
        self.early_deaths = 0 if slot.ready else self.early_deaths + 1
        if self.early_deaths >= MAX_EARLY_DEATHS:
            raise PoolError(f"{self.early_deaths} grading processes in a row died while starting")
        slot.kill()
        self.slots[i] = _Slot(self.job)

    def step(self, on_row: Callable[[Row], None]) -> None:
        """Wait for the next message or deadline; record finished rows and hand out more work."""
        busy = [s for s in self.slots if s.entry is not None]
        wait_s = max(0.0, min(s.deadline for s in busy) - time.monotonic())
        ready = set(wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=wait_s))
        for i, slot in enumerate(self.slots):
            if slot.entry is None:
                continue
            if slot.conn in ready or slot.proc.sentinel in ready:
                row, alive = slot.receive(self.timeout)
            elif time.monotonic() > slot.deadline:
                row, alive = slot.overran(self.timeout), False
            else:
                continue
            if row is None:
                continue
            self.rows[row.id] = row
            on_row(row)
            if not alive:
                self.replace(i)
            self.hand_out(i)


def grade_all(
    job: Job, entries: list[Entry], *, processes: int, timeout: float, on_row: Callable[[Row], None]
) -> list[Row]:
    """Grade every entry in `processes` grading processes; rows come back in entries' order."""
    if not entries:
        return []
    pool = _Pool(job, entries, processes, timeout)
    try:
        for i in range(len(pool.slots)):
            pool.hand_out(i)
        while any(s.entry is not None for s in pool.slots):
            pool.step(on_row)
    except BaseException:  # interrupted (or PoolError): stop at once, grading nothing further
        for slot in pool.slots:  # every process is sent SIGKILL before any is waited for
            if slot.proc.is_alive():
                slot.proc.kill()
        for slot in pool.slots:
            slot.proc.join(10)
            slot.conn.close()
        raise
    for slot in pool.slots:
        slot.stop()
    return [pool.rows[e.id] for e in entries]
