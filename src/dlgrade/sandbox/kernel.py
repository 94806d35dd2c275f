"""Kernel containment of a worker: Landlock, a seccomp filter, no_new_privs, uid and capabilities.

A worker calls `confine(plan)` after it has opened everything it keeps (its socket, its output
file, the submission's source read into memory) and before any student code runs. From then on
the kernel, not Python, decides what the process may do, so native code (torch.from_file,
readline, sqlite3, raw syscalls through ctypes) is held to the same rules as Python code:

- **identity** (only when grading runs as root): every capability is dropped (bounding set
  too) and, where the Python installation is readable by others, the uid/gid change to an
  unprivileged one (`nobody`); otherwise the worker stays uid 0 without any capability and
  with the securebits that keep it from regaining one;
- **no_new_privs**: nothing it runs can gain privileges;
- **Landlock**: read access only to the Python installation, the engine's package and a few
  system files; write access only to the worker's private folder; no TCP; signals and abstract
  Unix sockets scoped to the worker itself;
- **seccomp**: no new processes (threads allowed), no exec, ptrace, process_vm_*, pidfd
  signals, signals outside its own process group, new sockets, namespaces, mounts, bpf,
  io_uring, keyrings, file handles, memfd and other escape hatches.

Each layer is applied only where the kernel offers it; `confine` returns which were applied,
and `probe()` says what the kernel supports (for `grade doctor`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import stat
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dlgrade.sandbox import resources, seccomp, syscall
from dlgrade.sandbox.identity import drop_identity
from dlgrade.sandbox.syscall import ConfineError, check

UNPRIVILEGED_UID = 65534  # nobody
LAYERS = ("identity", "no_new_privs", "landlock", "seccomp")

_PR_SET_NO_NEW_PRIVS = 38

# Landlock (include/uapi/linux/landlock.h); the three syscalls share numbers on every arch.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_CREATE_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_ABI1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_ALL = 0b11  # bind and connect TCP
_SCOPE_ALL = 0b11  # abstract Unix sockets, signals
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_READ_RIGHTS = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

# Read-only system files a worker may need after it is confined (dynamic loader, time zone,
# randomness, CPU topology for torch's thread pools). None holds anything of the course.
SYSTEM_READ = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/usr/share/zoneinfo",
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/sys/devices/system/cpu",
    "/proc/cpuinfo",
    "/proc/meminfo",
)


@dataclass(frozen=True)
class Plan:
    """What one worker is confined to (built in the zygote, applied in each worker)."""

    read: tuple[str, ...]
    write: tuple[str, ...] = ()
    drop_to: tuple[int, int] | None = None  # (uid, gid) when running as root; None: keep uid
    gpu_devices: tuple[str, ...] = ()  # /dev/nvidia*: granted only to workers on a GPU
    gpu_read: tuple[str, ...] = ()


@dataclass
class Applied:
    """The layers `confine` applied, and why any other is missing."""

    layers: dict[str, str] = field(default_factory=dict)  # layer -> short description
    missing: dict[str, str] = field(default_factory=dict)  # layer -> reason

    def to_dict(self) -> dict[str, Any]:
        return {"layers": dict(self.layers), "missing": dict(self.missing)}


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 if none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        v = syscall.libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(v), 0)


def probe() -> dict[str, Any]:
    """What this machine's kernel offers a worker (for `grade doctor` and the result JSON)."""
    linux = sys.platform.startswith("linux")
    abi = landlock_abi()
    return {
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "landlock_abi": abi,
        "seccomp": linux and seccomp.supported(),
        "no_new_privs": linux,
        "root": linux and os.geteuid() == 0,
        "unprivileged_uid_usable": linux and os.geteuid() == 0 and installation_readable_by_others(),
    }


def installation_readable_by_others(paths: Iterable[str] | None = None) -> bool:
    """Whether a process of another uid could read the Python installation (every folder on
    the way to it searchable by others, the installation itself readable)."""
    roots = list(paths) if paths is not None else python_roots()
    for root in roots:
        path = os.path.realpath(root)
        parts = path.split(os.sep)
        for i in range(2, len(parts) + 1):
            here = os.sep.join(parts[:i]) or os.sep
            try:
                mode = os.stat(here).st_mode
            except OSError:
                return False
            if not mode & stat.S_IXOTH or (here == path and not mode & stat.S_IROTH):
                return False
    return True


def python_roots() -> list[str]:
    """The folders of the running Python installation and of the modules a worker uses."""
    import torch  # the zygote has it already

    import dlgrade

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for module in (torch, dlgrade):
        if module.__file__:
            roots.add(os.path.dirname(module.__file__))
    with contextlib.suppress(ImportError):
        import numpy

        if numpy.__file__:
            roots.add(os.path.dirname(os.path.dirname(numpy.__file__)))
    return sorted(r for r in roots if r and os.path.isdir(r))


def make_plan() -> Plan:
    """The plan for this machine: read the installation, drop to `nobody` where possible."""
    drop: tuple[int, int] | None = None
    if sys.platform.startswith("linux") and os.geteuid() == 0:
        drop = (UNPRIVILEGED_UID, UNPRIVILEGED_UID) if installation_readable_by_others() else (0, 0)
    read = [*python_roots(), *(p for p in SYSTEM_READ if os.path.exists(p))]
    return Plan(
        read=tuple(read),
        drop_to=drop,
        gpu_devices=tuple(resources.gpu_devices()),
        gpu_read=tuple(p for p in resources.GPU_READ if os.path.exists(p)),
    )


def exposed(read: Iterable[str], private: Iterable[str]) -> list[str]:
    """The `private` folders (the course's answers) that a read rule on `read` would expose."""
    roots = [os.path.realpath(r).rstrip(os.sep) + os.sep for r in read]
    out = []
    for secret in private:
        real = os.path.realpath(secret).rstrip(os.sep) + os.sep
        if any(real.startswith(root) for root in roots):
            out.append(secret)
    return out


def assess(plan: Plan) -> Applied:
    """The layers `confine(plan)` applies on this machine, and why any other is missing."""
    applied = Applied()
    if not sys.platform.startswith("linux"):
        for layer in LAYERS:
            applied.missing[layer] = f"not Linux ({sys.platform})"
        return applied
    if plan.drop_to is None:
        applied.missing["identity"] = f"not root (uid {os.geteuid()}): no privileges to drop"
    elif plan.drop_to[0]:
        applied.layers["identity"] = f"uid {plan.drop_to[0]} gid {plan.drop_to[1]}, no capabilities"
    else:
        applied.layers["identity"] = "uid 0 (installation not readable by others), no capabilities"
    applied.layers["no_new_privs"] = "set"
    abi = landlock_abi()
    if abi < 1:
        applied.missing["landlock"] = "the kernel offers no Landlock"
    else:
        what = "reads the installation only, writes its own folder only"
        what += ", no TCP" if abi >= 4 else ""
        what += ", signals and abstract sockets scoped" if abi >= 6 else ""
        applied.layers["landlock"] = f"ABI {abi}: {what}"
    if seccomp.supported():
        applied.layers["seccomp"] = f"{seccomp.ARCH} filter: no processes, exec, ptrace, new sockets, ..."
    else:
        applied.missing["seccomp"] = f"no filter for this architecture ({platform.machine()})"
    return applied


def confine(plan: Plan, workdir: str, *, gpu: bool = False) -> Applied:
    """Apply every layer `assess(plan)` lists, in order; raise ConfineError if one fails.
    With `gpu`, Landlock also grants the plan's GPU files (a worker grading on a GPU)."""
    applied = assess(plan)
    if not sys.platform.startswith("linux"):
        return applied
    libc = syscall.libc()
    if "identity" in applied.layers:
        assert plan.drop_to is not None
        drop_identity(libc, *plan.drop_to, workdir)
    check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    if "landlock" in applied.layers:
        _landlock(libc, plan, workdir, gpu)
    if "seccomp" in applied.layers:
        try:
            seccomp.install(libc, os.getpid(), all_threads=_threads() > 1)
        except OSError as exc:
            raise ConfineError(str(exc)) from None
    return applied


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _landlock(libc: Any, plan: Plan, workdir: str, gpu: bool = False) -> None:
    abi = landlock_abi()
    handled = _FS_ALL_ABI1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    handled |= _FS_IOCTL_DEV if abi >= 5 else 0
    net = _NET_ALL if abi >= 4 else 0
    scoped = _SCOPE_ALL if abi >= 6 else 0
    attr = struct.pack("QQQ", handled, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    fd = check(libc.syscall(_SYS_CREATE, ctypes.c_char_p(attr), ctypes.c_size_t(size), 0), "landlock")
    try:
        for path in plan.read:
            _allow(libc, fd, path, _READ_RIGHTS & handled)
        _allow(libc, fd, f"/proc/{os.getpid()}", _FS_READ_FILE | _FS_READ_DIR)
        _allow(libc, fd, workdir, handled)
        for path in plan.write:
            _allow(libc, fd, path, handled)
        if gpu:
            for path in plan.gpu_read:
                _allow(libc, fd, path, _READ_RIGHTS & handled)
            for path in plan.gpu_devices:
                _allow(libc, fd, path, (_FS_READ_FILE | _FS_WRITE_FILE | _FS_IOCTL_DEV) & handled)
        check(libc.syscall(_SYS_RESTRICT, fd, 0), "landlock_restrict_self")
    finally:
        os.close(fd)


def _allow(libc: Any, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent here: nothing to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        attr = struct.pack("=Qi", rights, fd)
        check(
            libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.c_char_p(attr), 0),
            f"landlock rule for {path}",
        )
    finally:
        os.close(fd)
