"""A worker's totals: its folder is a tmpfs capped in bytes and files, seen by the worker alone,
and its tasks (threads included) are capped, whatever its uid.

- **Folder**: the worker enters a mount namespace of its own (run as root) or a user and mount
  namespace of its own (any other user) and mounts a tmpfs of `DISK_BYTES` and `DISK_FILES`
  on its folder. The kernel refuses the write past either (ENOSPC), and the tmpfs, with all
  that was written into it, vanishes with the last process of the namespace, however the
  worker ends. Where the kernel allows neither namespace, the folder is an ordinary one: each
  file is capped (RLIMIT_FSIZE, `resources.limit`), the zygote removes the folder when it
  reaps the worker and the janitor (`janitor.py`) when the zygote is gone.
- **Tasks**: as root, the worker joins a pids cgroup of its own (`TASKS`) under the zygote's
  (`tasks_parent`); root is exempt from RLIMIT_NPROC, a cgroup is not. Any other user:
  RLIMIT_NPROC, which the kernel counts per user namespace, so in the worker's own namespace
  it counts the worker's tasks alone. A worker that keeps uid 0 where no pids cgroup can be
  made has no task cap (docs/sandbox.md).

Both are set up in the forked worker before it is confined; `confine` then forbids mounts,
namespaces and cgroup writes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import sys
from typing import Any

from dlgrade.sandbox.identity import drop_capabilities

DISK_BYTES = 64 << 20
DISK_FILES = 2048
TASKS = 256

_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
_CGROUP_V1_PIDS = "/sys/fs/cgroup/pids"
_CGROUP_V2 = "/sys/fs/cgroup"


def apply(libc: Any, workdir: str, tasks_group_parent: str | None) -> list[str]:
    """Both totals for this worker (in the forked worker, before it is confined); returns why
    either is missing (nothing when both hold)."""
    root = os.geteuid() == 0
    linux = libc is not None and sys.platform.startswith("linux")
    own_user_namespace = linux and not root and _own_user_namespace(libc)
    folder = private_folder(libc, workdir)
    if own_user_namespace:
        drop_capabilities(libc)  # all of them, which it held in its own namespace for the mount
    tasks = cap_tasks(tasks_group_parent if root else None, own_user_namespace)
    return [why for why in (folder, tasks) if why]


def _own_user_namespace(libc: Any) -> bool:
    """Enter a user namespace mapping this process's uid and gid alone (to themselves); it
    keeps its capabilities there until `drop_capabilities` (the mount needs them)."""
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(_CLONE_NEWUSER) != 0:
        return False
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return True


def private_folder(libc: Any, workdir: str) -> str:
    """Mount the capped tmpfs on `workdir` in a mount namespace of this process's own.
    Returns "" when it is in place, else why not (the folder is then an ordinary one)."""
    if libc is None or not sys.platform.startswith("linux"):
        return "not Linux"
    if libc.unshare(_CLONE_NEWNS) != 0:
        return f"no mount namespace of its own ({os.strerror(ctypes.get_errno())})"
    if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return f"mounts not private ({os.strerror(ctypes.get_errno())})"
    options = f"size={DISK_BYTES},nr_inodes={DISK_FILES},mode=0700".encode()
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    if libc.mount(b"dlgrade", workdir.encode(), b"tmpfs", flags, options) != 0:
        return f"no tmpfs ({os.strerror(ctypes.get_errno())})"
    return ""


def cap_tasks(parent: str | None, own_user_namespace: bool) -> str:
    """Cap this process's tasks at TASKS: a pids cgroup under `parent` (root), else RLIMIT_NPROC
    in its own user namespace. Returns "" when capped, else why not."""
    if parent:
        group = os.path.join(parent, str(os.getpid()))
        try:
            os.mkdir(group, 0o700)
            _write(os.path.join(group, "pids.max"), str(TASKS))
            _write(os.path.join(group, "cgroup.procs"), str(os.getpid()))
            return ""
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.rmdir(group)
            return f"no pids cgroup ({exc.strerror})"
    if own_user_namespace:
        resource.setrlimit(resource.RLIMIT_NPROC, (TASKS, TASKS))
        return ""
    return "no pids cgroup and no user namespace of its own"


def tasks_parent() -> str | None:
    """A pids cgroup for the zygote's workers (made by the zygote, as root), or None."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return None
    for base in _pids_bases():
        parent = os.path.join(base, f"dlgrade-{os.getpid()}")
        try:
            os.mkdir(parent, 0o700)
        except OSError:
            continue
        if base.startswith(_CGROUP_V1_PIDS):
            return parent
        try:  # cgroup v2: the workers' groups get pids.max only where the parent hands it down
            _write(os.path.join(parent, "cgroup.subtree_control"), "+pids")
            return parent
        except OSError:
            remove_groups(parent)
    return None


def _pids_bases() -> list[str]:
    out: list[str] = []
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        hierarchy, controllers, path = [*line.split(":", 2), "", ""][:3]
        if "pids" in controllers.split(","):
            out.append(_CGROUP_V1_PIDS + path)
        elif hierarchy == "0" and os.path.exists(os.path.join(_CGROUP_V2, "cgroup.controllers")):
            out.append(_CGROUP_V2 + path)
    return [os.path.normpath(p) for p in out]


def remove_groups(parent: str | None, only: str | None = None) -> None:
    """Remove the workers' empty cgroups under `parent` (`only`: that worker's), then `parent`
    itself once it has none left. Groups with live tasks stay (the kernel refuses)."""
    if not parent:
        return
    names = [only] if only else _subfolders(parent)
    for name in names:
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(parent, name))
    if only is None:
        with contextlib.suppress(OSError):
            os.rmdir(parent)


def _subfolders(folder: str) -> list[str]:
    try:
        return [e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
