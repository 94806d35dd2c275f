"""The janitor: a tiny process that removes the zygote's work folder and its workers' cgroups once
the zygote is gone, however it ended (a normal close, or killed with `grade`).

The zygote starts it first thing, before torch and before any request (it holds no submission's
data), and keeps the write end of a pipe; the kernel closes that end when the zygote dies, so
the janitor's read returns (EOF) whether the zygote exited or was killed. Forked twice and in a
session of its own, it is neither the zygote's child (the zygote kills its children) nor in its
process group (the grader kills that group), and it ignores the terminal's signals.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time

from dlgrade.sandbox import workspace

CLEAN_TRIES = 100  # every 50 ms: the workers die with the zygote (PDEATHSIG), at once


def start(workroot: str, groups: str | None) -> int:
    """Start the janitor for `workroot` and `groups`; return the pipe end to keep open."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(write_end)
            if os.fork() == 0:
                _serve(read_end, workroot, groups)
        finally:
            os._exit(0)
    os.close(read_end)
    os.waitpid(pid, 0)
    return write_end


def _serve(read_end: int, workroot: str, groups: str | None) -> None:
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, read_end)
    os.closerange(read_end + 1, 65536)
    with contextlib.suppress(OSError):
        while os.read(read_end, 1):
            pass
    clean(workroot, groups)


def clean(workroot: str, groups: str | None) -> None:
    """Remove `workroot` and `groups`, retrying while the last workers die."""
    for _ in range(CLEAN_TRIES):
        shutil.rmtree(workroot, ignore_errors=True)
        workspace.remove_groups(groups)
        if not os.path.lexists(workroot) and not (groups and os.path.lexists(groups)):
            return
        time.sleep(0.05)
