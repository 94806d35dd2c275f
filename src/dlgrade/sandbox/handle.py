"""One worker as the grader holds it: send calls, read answers within deadlines, know how it ended.

Every frame a worker sends is hostile input. It is decoded strictly (dlgrade.core.decoder) and
accepted only in the state that expects its kind: `confined` (with the isolation report, sent
by trusted code before any student code runs), then `ready` or `import_error`, then one reply
per call with `violation` reports before it. A frame out of turn is the worker breaking the
protocol (`ProtocolBroken`). Importing this module does not import torch (the codec is
imported on the first call).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from dlgrade.sandbox import wire

OUTPUT_BYTES = 1 << 20
MAX_LINES = 10**12  # a count of printed lines the grader believes, at most
MAX_REPORTS = 8  # violation reports kept per call; more are read and dropped
# Bytes all the workers of one grading run may send in all: what the grading process can be
# made to hold (values kept across calls, say) is bounded by construction.
RECEIVE_BUDGET = 1 << 29
# What a worker may send, by state; the trusted part of the worker sends the first.
BEFORE_IMPORT = frozenset({"confined", "confine_error", "device_error"})
AFTER_IMPORT = frozenset({"ready", "import_error"})
REPLIES = frozenset({"ok", "forbidden", "raised", "exit", "not_implemented", "missing", "unreadable"})
KNOWN = BEFORE_IMPORT | AFTER_IMPORT | REPLIES | {"violation"}


class Sender:
    """What is left to send of a pipeline's calls: a thread's work, or nothing."""

    def __init__(self, thread: threading.Thread | None) -> None:
        self.thread = thread

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


class WorkerDied(Exception):
    """The worker's process ended or stopped answering during a request."""

    def __init__(self, reason: str, timed_out: bool = False, printed: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out
        self.printed = printed  # lines the call had printed, as far as the worker told


def printed_lines(value: object) -> int:
    """A count of printed lines from the worker (hostile input): an int from 0 to MAX_LINES."""
    return min(value, MAX_LINES) if type(value) is int and value >= 0 else 0


class ProtocolBroken(WorkerDied):
    """The worker sent a frame its state does not expect; the reason names only known kinds."""

    def __init__(self, kind: object, state: str) -> None:
        what = f"a '{kind}' frame" if isinstance(kind, str) and kind in KNOWN else "a frame of no known kind"
        super().__init__(f"broke the protocol (sent {what} {state})")


@dataclass(frozen=True)
class WorkerSpec:
    folder: str
    module: str
    memory_mb: int
    output_bytes: int = OUTPUT_BYTES
    audit: bool = True  # False only in tests that prove process containment on its own
    confine: bool = True  # kernel containment; False only in tests of the layers behind it
    device: str = "cpu"  # where the graders' inputs go; a GPU is opened before confinement
    serves: str = ""  # "submission": one worker serves a submission's exercises in turn (device_worker)


class Host(Protocol):
    """What a worker needs of the sandbox that spawned it (sandbox.pool.Sandbox)."""

    deadline: float | None
    broken: str
    received: int  # bytes its workers sent in this grading run (RECEIVE_BUDGET)

    def pid_of(self, worker: Worker) -> int: ...

    def reap(self, pid: int) -> int | None: ...

    def release(self, pid: int) -> None: ...

    def _stuck(self, exc: BaseException) -> Exception: ...


class Worker:
    """One forked worker holding one imported student module."""

    def __init__(self, sandbox: Host, pid: int | None, sock: socket.socket, device: str = "cpu") -> None:
        self.sandbox = sandbox
        self._pid = pid  # None until the zygote's answer to the spawn is read
        self.sock = sock
        self.alive = True
        self.printing = 0  # lines the current call has printed, as the worker last told
        self.device = device  # the only device besides the CPU its tensors may claim
        self.isolation: dict[str, Any] = {}  # from its `confined` frame, sent before student code ran
        self.ruled: set[str] = set()  # the rule keys of the calls it was sent (`_encoded`)

    @property
    def pid(self) -> int:
        return self.sandbox.pid_of(self)

    def hello(self, timeout: float) -> dict[str, Any]:
        """Wait for the import to finish: {'kind': 'ready', 'isolation': ...}, {'kind':
        'import_error', ...}, or the worker's own failure to start ('confine_error', 'device_error')."""
        deadline = time.monotonic() + timeout
        first, _ = self._receive(deadline, timeout, BEFORE_IMPORT, "before its confinement")
        if first["kind"] != "confined":
            return first
        self.isolation = isolation_report(first.get("isolation"))
        reply, _ = self._receive(deadline, timeout, AFTER_IMPORT, "while importing")
        return {**reply, "isolation": self.isolation} if reply["kind"] == "ready" else reply

    def request(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send one call; return the final reply and any guard reports that came before it."""
        deadline = time.monotonic() + timeout
        try:
            self.sock.settimeout(timeout)
            wire.send_frame(self.sock, self._encoded(request))
        except (TimeoutError, OSError):
            self._die()
            raise WorkerDied("stopped reading its input", timed_out=True) from None
        return self._receive(deadline, timeout, REPLIES, "during a call")

    def _encoded(self, request: dict[str, Any]) -> bytes:
        """A call's payload. Its rules travel with the first call of their key only: this worker
        keeps them (sandbox.call_rules), and later calls name them by the key."""
        from dlgrade.core import codec  # torch: imported here so that starting a zygote does not wait for it

        key = request.get("rules_key")
        if "rules" in request and isinstance(key, str) and key in self.ruled:
            return codec.encode({k: v for k, v in request.items() if k != "rules"})
        payload = codec.encode(request)
        if "rules" in request and isinstance(key, str):
            self.ruled.add(key)  # only once the frame is made: a call that never left sends them again
        return payload

    def pipeline(self, requests: list[dict[str, Any]]) -> Sender:
        """Send several calls at once; read each answer with `receive`.

        The worker runs them one after another while the grader judges the answers already
        back, instead of both taking turns. Each answer still has the per-call time limit.
        What the socket's buffer takes at once is sent here, without blocking (usually all of
        it); a thread sends the rest, so the grader never blocks on a worker that is busy
        answering.
        """
        data = memoryview(b"".join(wire.framed(self._encoded(r)) for r in requests))
        self.sock.settimeout(None)  # the reader's deadlines bound the wait; a kill ends a blocked send
        sent = 0
        try:
            while sent < len(data):
                sent += self.sock.send(data[sent:], socket.MSG_DONTWAIT)
            return Sender(None)
        except BlockingIOError:
            pass
        except OSError:  # the worker is gone: the reader says how it ended
            return Sender(None)
        rest = data[sent:]

        def send() -> None:
            with contextlib.suppress(OSError):
                self.sock.sendall(rest)

        sender = threading.Thread(target=send, name=f"dlgrade-send-{self._pid}", daemon=True)
        sender.start()
        return Sender(sender)

    def receive(self, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The next answer of a pipeline, within `timeout` seconds from now."""
        return self._receive(time.monotonic() + timeout, timeout, REPLIES, "during a call")

    def _receive(
        self, deadline: float, timeout: float, expect: frozenset[str], state: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The next frame of a kind in `expect`, and the violation reports before it (at most
        MAX_REPORTS; none are accepted before the worker's confinement)."""
        from dlgrade.core import codec

        reports: list[dict[str, Any]] = []
        overall = self.sandbox.deadline
        if overall is not None and overall < deadline:
            deadline = overall
        while True:
            try:
                left = max(RECEIVE_BUDGET - self.sandbox.received, 0)
                payload, _ = wire.recv_frame(self.sock, deadline, max_frame=min(codec.MAX_BYTES, left))
                self.sandbox.received += len(payload)
                msg = codec.decode(payload, device=self.device)
                del payload  # the decoded tensors hold what they need of it
            except wire.WireTimeout:
                if overall is not None and time.monotonic() >= overall:
                    self.alive = False
                    raise self.sandbox._stuck(TimeoutError()) from None
                self._die()
                raise WorkerDied(
                    f"ran past the {timeout:g} s time limit", timed_out=True, printed=self.printing
                ) from None
            except wire.FrameTooLarge as exc:
                self._die()
                if exc.cap < codec.MAX_BYTES:
                    raise WorkerDied(f"sent over {RECEIVE_BUDGET >> 20} MiB in all in this run") from None
                raise WorkerDied(f"sent a frame over the {exc.cap >> 20} MiB cap") from None
            except (wire.WireClosed, OSError):
                status = self._die()
                raise WorkerDied(describe_status(status)) from None
            except codec.CodecError as exc:
                self._die()
                raise WorkerDied(f"sent data the grader cannot read ({exc})") from None
            kind = msg.get("kind") if type(msg) is dict and type(msg.get("kind")) is str else None
            if kind == "violation" and expect is not BEFORE_IMPORT:
                if len(reports) < MAX_REPORTS:
                    reports.append(msg)
                continue
            if kind == "printing" and expect is REPLIES:  # the call is printing a lot
                self.printing = printed_lines(msg.get("lines"))
                continue
            if kind not in expect:
                self._die()
                raise ProtocolBroken(kind, state)
            self.printing = 0
            return msg, reports

    def _die(self) -> int | None:
        if not self.alive:
            return None
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.close()
        return self.sandbox.reap(self.pid)

    def close(self) -> None:
        """Done with this worker: kill it without waiting for it to be torn down."""
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.close()
        if not self.sandbox.broken:  # a broken zygote was killed with all its workers
            self.sandbox.release(self.pid)


def isolation_report(value: Any) -> dict[str, Any]:
    """The layers a worker's trusted code applied and those missing, as plain short strings."""
    out: dict[str, Any] = {"layers": {}, "missing": {}}
    for part in ("layers", "missing"):
        got = value.get(part) if isinstance(value, dict) else None
        if isinstance(got, dict):
            out[part] = {str(k)[:40]: str(v)[:200] for k, v in list(got.items())[:16]}
    return out


def describe_status(status: int | None) -> str:
    """One line for how a worker ended, from its wait status."""
    if status is None:
        return "ended during the call"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGKILL:
            return "was killed (SIGKILL; out of memory, or killed from inside)"
        return f"crashed with {name}"
    if os.WIFEXITED(status):
        return f"ended the process with exit status {os.WEXITSTATUS(status)} (os._exit or a crash)"
    return "ended during the call"
