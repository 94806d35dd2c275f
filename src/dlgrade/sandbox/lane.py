"""A lane's sandbox: a zygote forked from a running one, for a grading lane in another process.

`grade` grades a submission's exercises in parallel lanes (engine.lanes): each lane is a
process of its own with a zygote of its own. A lane's zygote is forked from the first one (the
`lane` operation), so it starts with torch imported, the guards installed and the kernel plan
made; its workers are forked, confined and reaped exactly as the first zygote's are. It dies
with the first zygote.

Asking for one does not wait: the request waits in the first zygote's link until it is ready,
its answer is read with the next ones, and the lane's own process reads the lane zygote's
hello (what `Sandbox` reads from a zygote it started) when it first needs a worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

from dlgrade.sandbox import wire
from dlgrade.sandbox.pool import START_TIMEOUT, Sandbox, SandboxBroken, SandboxError


class LaneSandbox(Sandbox):
    """A Sandbox whose zygote is forked from another's: it starts no process of its own."""

    def __init__(self, first: Sandbox, ctl: socket.socket) -> None:
        super().__init__(first.guard_patterns, confine=first.confine, audit=first.audit)
        self._ctl = ctl
        self.lane_pid = 0

    def start(self) -> None:
        if self._ctl is None:
            raise SandboxBroken(self.broken or "a lane's sandbox cannot be restarted")

    def _ensure_ready(self) -> socket.socket:
        self.start()
        assert self._ctl is not None
        if not self.ready:
            try:
                hello, _ = wire.recv_json(self._ctl, time.monotonic() + START_TIMEOUT)
            except (wire.WireClosed, wire.WireTimeout) as exc:
                raise SandboxError(f"a lane's sandbox did not start ({exc})") from None
            self.lane_pid = int(hello["pid"])
            self.installed_guards = list(hello.get("guards", []))
            self._assessed = dict(hello.get("isolation", {}))
            self.isolation = dict(self._assessed)
            self.read_roots = [str(r) for r in hello.get("read", [])]
            self.ready = True
        return self._ctl

    def mark_broken(self, reason: str) -> None:
        if not self.broken:
            self.broken = reason
        if self.lane_pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.lane_pid, signal.SIGKILL)

    def close(self) -> None:
        """Close the link: the lane's zygote kills its workers, removes their folders and leaves."""
        self._spares.clear()
        self._unanswered.clear()
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None


class _LaneAnswer:
    """The first zygote's answer to a `lane` request, read with its other answers."""

    _pid: int | None = None


def open_lane(first: Sandbox) -> LaneSandbox:
    """Ask `first`'s zygote for a lane's zygote, without waiting; return the lane's sandbox."""
    first.start()
    ours, theirs = socket.socketpair()
    try:
        with first._lock:
            if first._ctl is None or first.broken:
                raise SandboxBroken(first.broken or "the sandbox is closed")
            wire.send_json(first._ctl, {"op": "lane"}, fds=(theirs.fileno(),))
            first._unanswered.append(_LaneAnswer())  # type: ignore[arg-type] # only its pid is read
    except OSError as exc:
        ours.close()
        raise SandboxError(f"the sandbox could not start a lane ({type(exc).__name__})") from None
    finally:
        theirs.close()
    return LaneSandbox(first, ours)


def forget(box: Sandbox) -> None:
    """In a forked process: drop this process's copy of `box`'s link, leaving the zygote and
    its workers to the process that owns them."""
    box._spares.clear()
    box._unanswered.clear()
    if box._ctl is not None:
        with contextlib.suppress(OSError):
            box._ctl.close()
        box._ctl = None
    box._proc = None
