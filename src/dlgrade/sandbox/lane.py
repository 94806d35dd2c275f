"""A lane's sandbox: a zygote forked from a running one, for a grading lane in another process.

`grade` grades a submission's exercises in parallel lanes (engine.lanes): each lane is a
process of its own with a zygote of its own. A lane's zygote is forked from the first one (the
`lane` operation), so it starts with torch imported, the guards installed and the kernel plan
made, in milliseconds; its workers are forked, confined and reaped exactly as the first
zygote's are. It dies with the first zygote.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket

from dlgrade.sandbox import wire
from dlgrade.sandbox.pool import Sandbox, SandboxBroken, SandboxError


class LaneSandbox(Sandbox):
    """A Sandbox whose zygote was forked from another's: it starts nothing and waits for nothing."""

    def __init__(self, first: Sandbox, ctl: socket.socket, pid: int) -> None:
        super().__init__(first.guard_patterns, confine=first.confine, audit=first.audit)
        self._ctl, self._ready, self.lane_pid = ctl, True, pid
        self.installed_guards = list(first.installed_guards)
        self._assessed = dict(first._assessed)
        self.isolation = dict(first._assessed)
        self.read_roots = list(first.read_roots)

    def start(self) -> None:
        if self._ctl is None:
            raise SandboxBroken(self.broken or "a lane's sandbox cannot be restarted")

    def mark_broken(self, reason: str) -> None:
        if not self.broken:
            self.broken = reason
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


def open_lane(first: Sandbox) -> LaneSandbox:
    """Ask `first`'s zygote (started and ready) for a lane's zygote; return its sandbox."""
    ours, theirs = socket.socketpair()
    with first._lock:
        ctl = first._ensure_ready()
        try:
            first._settle()
            wire.send_json(ctl, {"op": "lane"}, fds=(theirs.fileno(),))
            reply, _ = wire.recv_json(ctl, first._reply_deadline())
        except (wire.WireClosed, wire.WireTimeout, OSError) as exc:
            ours.close()
            raise SandboxError(f"the sandbox could not start a lane ({type(exc).__name__})") from None
        finally:
            theirs.close()
    return LaneSandbox(first, ours, int(reply["pid"]))


def forget(box: Sandbox) -> None:
    """In a forked process: drop this process's copy of `box`'s link and workers' links, leaving
    the zygote and its workers to the process that owns them."""
    box._spares.clear()
    box._unanswered.clear()
    if box._ctl is not None:
        with contextlib.suppress(OSError):
            box._ctl.close()
        box._ctl = None
    box._proc = None
