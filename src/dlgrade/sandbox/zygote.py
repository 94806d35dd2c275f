"""The zygote: imports torch once, then forks one sandbox worker per request.

Started by the grader with a minimal environment and one socket (its only link). It is a
child subreaper on Linux, so anything a worker spawns and orphans becomes its child, and it
kills every child that is not a live worker: when a worker is reaped or released, when idle,
when the grader asks for a sweep (before a grading run returns), and when the grader closes
the socket (or dies), after which it exits. It never reads a submission (preload.py), and what
its workers wrote goes with it, however it ends (janitor.py, workspace.py).

Usage: python -I -m dlgrade.sandbox.zygote FD
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from dlgrade.sandbox import janitor, preload, wire, workspace

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_HELLO: dict[str, Any] = {}  # what the grader is told once ready (a lane's zygote says it too)


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def main(argv: list[str]) -> int:
    ctl = socket.socket(fileno=int(argv[1]))
    # Before anything else (torch, a request): the janitor removes what workers wrote, and their
    # cgroups, once this process is gone, however it ends. Its pipe stays open until then.
    workroot = tempfile.mkdtemp(prefix="dlgrade-sandbox-")
    groups = workspace.tasks_parent()
    janitor.start(workroot, groups)
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    config, _ = wire.recv_json(ctl)
    from dlgrade.core.imports import heavy_imports

    with heavy_imports():  # a seventh faster without the collector (core.imports)
        import torch  # noqa: F401 - the point of the zygote: pay this import once

        with contextlib.suppress(ImportError):
            import numpy  # noqa: F401 - students may use it; load it once too
        from dlgrade.sandbox import guards, kernel, worker

    installed = guards.install(list(config.get("guards", [])))
    # Everything imported so far outlives every worker: out of the collector's sight, a
    # worker's first full collection no longer touches (and copies) the zygote's memory.
    gc.freeze()
    plan = kernel.make_plan()
    if plan.drop_to is not None and plan.drop_to[0] != 0:
        os.chmod(workroot, 0o711)  # workers change to another uid: they must reach their folders
    hello = {"kind": "ready", "pid": os.getpid(), "guards": installed, "read": list(plan.read)}
    _HELLO.update(hello, isolation=kernel.assess(plan).to_dict())
    wire.send_json(ctl, _HELLO)
    live: set[int] = set()
    statuses: dict[int, int] = {}
    try:
        given = {"workroot": workroot, "plan": plan, "tasks_parent": groups}
        _serve(ctl, live, statuses, given, libc, worker)
    finally:
        for pid in list(live):
            _kill_group(pid)
        live.clear()
        _sweep(live, statuses)
        janitor.clean(workroot, groups)
    return 0


def _lane(ctl: socket.socket, given: dict[str, Any], libc: Any, worker: Any) -> None:
    """A lane's zygote (forked from this one for a grading lane, engine.lanes): the same
    imports, guards and plan, its own link, its own workers; when the link closes it kills
    them and removes their folders (the first zygote's janitor removes the rest)."""
    os.setpgid(0, 0)
    if libc is not None:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the first zygote
    live: set[int] = set()
    statuses: dict[int, int] = {}
    spawned: set[int] = set()
    try:
        wire.send_json(ctl, {**_HELLO, "pid": os.getpid()})
        _serve(ctl, live, statuses, given, libc, worker, spawned)
    finally:
        for pid in list(live):
            _kill_group(pid)
        live.clear()
        _sweep(live, statuses)
        for pid in spawned:
            _remove(given, pid)


def _serve(
    ctl: socket.socket,
    live: set[int],
    statuses: dict[int, int],
    given: dict[str, Any],
    libc: Any,
    worker: Any,
    spawned: set[int] | None = None,
) -> None:
    dying: set[int] = set()  # released workers: killed, not yet reaped
    lanes: set[int] = set()  # lanes' zygotes: live until they leave on their own

    def bury() -> None:
        _collect(statuses)
        for pid in [p for p in dying if p in statuses]:
            dying.discard(pid)
            statuses.pop(pid)
            _remove(given, pid)
        for pid in [p for p in lanes if p in statuses]:
            lanes.discard(pid)
            live.discard(pid)
            statuses.pop(pid)

    while True:
        ready, _, _ = select.select([ctl], [], [], 0.5)
        bury()
        if not ready:
            _sweep(live, statuses)
            bury()
            continue
        try:
            msg, fds = wire.recv_json(ctl, want_fds=True)
        except (wire.WireClosed, OSError, ValueError):
            return
        if msg.get("op") == "spawn" and len(fds) == 1:
            preload.load(msg.get("preload"))
            pid = os.fork()
            if pid == 0:
                if msg.get("serves") == "submission":  # one worker for a submission's exercises
                    from dlgrade.sandbox import device_worker as worker
                worker.serve(socket.socket(fileno=fds[0]), {**msg, **given}, libc)
            os.close(fds[0])
            live.add(pid)
            if spawned is not None:
                spawned.add(pid)
            wire.send_json(ctl, {"pid": pid})
        elif msg.get("op") == "lane" and len(fds) == 1 and spawned is None:
            pid = os.fork()
            if pid == 0:
                ctl.close()
                code = 70
                try:
                    _lane(socket.socket(fileno=fds[0]), given, libc, worker)
                    code = 0
                finally:
                    os._exit(code)
            os.close(fds[0])
            live.add(pid)
            lanes.add(pid)
            wire.send_json(ctl, {"pid": pid})
        elif msg.get("op") == "release":
            # A worker the grader is done with: kill it and any stray, reap later, answer nothing,
            # so the grader never waits for a process to be torn down.
            pid = int(msg["pid"])
            live.discard(pid)
            dying.add(pid)
            _kill_group(pid)
            for stray in _children():
                if stray not in live:
                    _kill_group(stray)
        elif msg.get("op") == "sweep":
            _sweep(live, statuses)  # every process but the live workers is gone on return
            bury()
            wire.send_json(ctl, {"swept": True})
        elif msg.get("op") == "reap":
            pid = int(msg["pid"])
            live.discard(pid)
            _kill_group(pid)
            status = _wait_for(pid, statuses)
            _sweep(live, statuses)
            _remove(given, pid)
            wire.send_json(ctl, {"pid": pid, "status": status})
        else:
            for fd in fds:
                os.close(fd)
            return


def _remove(given: dict[str, Any], pid: int) -> None:
    """What a reaped worker leaves: its folder and its cgroup."""
    shutil.rmtree(os.path.join(given["workroot"], str(pid)), ignore_errors=True)
    workspace.remove_groups(given["tasks_parent"], str(pid))


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _collect(statuses: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        statuses[pid] = status


def _wait_for(pid: int, statuses: dict[int, int]) -> int | None:
    if pid in statuses:
        return statuses.pop(pid)
    try:
        _, status = os.waitpid(pid, 0)
        return status
    except ChildProcessError:
        return statuses.pop(pid, None)


def _children() -> list[int]:
    """Pids whose parent is this process (Linux /proc); empty where /proc is absent.

    Read from each of its threads' `children` file: a look-up of a few pids where the scan of
    every process's stat below reads hundreds of files (3 to 5 ms a call, once per released
    worker, while spawns wait). The scan stays for kernels built without that file."""
    me = os.getpid()
    try:
        found: set[int] = set()
        for task in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{task}/children", "rb") as f:
                found.update(int(pid) for pid in f.read().split())
        return sorted(found)
    except OSError:  # no children files (a kernel without CONFIG_PROC_CHILDREN), a thread gone
        return _scanned_children(me)


def _scanned_children(me: int) -> list[int]:
    """`_children` the slow way: every process's stat, its parent field compared with `me`."""
    out: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            out.append(int(entry))
    return out


def _sweep(live: set[int], statuses: dict[int, int]) -> None:
    """Kill and reap every child that is not a live worker, until none is left."""
    for _ in range(200):
        strays = [pid for pid in _children() if pid not in live]
        if not strays:
            return
        for pid in strays:
            _kill_group(pid)
        time.sleep(0.005)
        _collect(statuses)


if __name__ == "__main__":
    code = main(sys.argv)
    # Every worker and stray is gone and the work folder removed: skip Python's teardown of
    # torch, which takes longer than everything the zygote does on its way out.
    sys.stderr.flush()
    os._exit(code)
