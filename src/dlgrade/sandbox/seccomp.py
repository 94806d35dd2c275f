"""A seccomp-BPF filter for workers, assembled here: what a graded function never needs.

Denied with EPERM: new processes (clone without CLONE_THREAD, fork, vfork), exec, ptrace,
process_vm_readv/writev, pidfd calls, new sockets (socket, socketpair, bind, listen, accept,
connect), namespaces and mounts, bpf, perf events, userfaultfd, io_uring, keyrings, file
handles, memfd, module loading, kexec, uid/gid changes, priorities and time setting. clone3
answers ENOSYS (its flags live in memory a filter cannot read; libc falls back to clone).
Signals (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo) may only target the worker
itself: its own pid, or its own process group (kill(0, ...) and kill(-pid, ...)). A call
made under another architecture's ABI (x32, i386 on x86_64) kills the process.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from typing import Any

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}  # seccomp(2), for SECCOMP_FILTER_FLAG_TSYNC
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_EPERM, _ENOSYS = 1, 38
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000

# BPF opcodes: ld w abs, jeq k, jge k, jset k, ret k
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16

_ARCHES: dict[str, dict[str, Any]] = {
    "x86_64": {
        "audit": 0xC000003E,
        "x32": True,
        "clone": 56,
        "clone3": 435,
        "kill": 62,
        "self_only": {"tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
        "deny": {
            "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101,
            "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_open": 434,
            "pidfd_send_signal": 424, "pidfd_getfd": 438, "socket": 41, "socketpair": 53,
            "bind": 49, "listen": 50, "accept": 43, "accept4": 288, "connect": 42,
            "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
            "chroot": 161, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
            "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
            "delete_module": 176, "keyctl": 250, "add_key": 248, "request_key": 249,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
            "open_by_handle_at": 304, "name_to_handle_at": 303, "open_tree": 428,
            "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
            "mount_setattr": 442, "memfd_create": 319, "memfd_secret": 447,
            "process_madvise": 440, "process_mrelease": 448, "kcmp": 312, "lookup_dcookie": 212,
            "quotactl": 179, "swapon": 167, "swapoff": 168, "reboot": 169, "syslog": 103,
            "acct": 163, "settimeofday": 164, "clock_settime": 227, "adjtimex": 159,
            "clock_adjtime": 305, "personality": 135, "iopl": 172, "ioperm": 173, "uselib": 134,
            "vhangup": 153, "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114,
            "setresuid": 117, "setresgid": 119, "setfsuid": 122, "setfsgid": 123,
            "setgroups": 116, "mknod": 133, "mknodat": 259, "setpriority": 141,
            "sched_setparam": 142, "sched_setscheduler": 144, "sched_setattr": 314,
            "ioprio_set": 251, "migrate_pages": 256, "move_pages": 279,
        },
    },
    "aarch64": {
        "audit": 0xC00000B7,
        "x32": False,
        "clone": 220,
        "clone3": 435,
        "kill": 129,
        "self_only": {"tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240},
        "deny": {
            "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270,
            "process_vm_writev": 271, "pidfd_open": 434, "pidfd_send_signal": 424,
            "pidfd_getfd": 438, "socket": 198, "socketpair": 199, "bind": 200, "listen": 201,
            "accept": 202, "accept4": 242, "connect": 203, "unshare": 97, "setns": 268,
            "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "bpf": 280,
            "perf_event_open": 241, "userfaultfd": 282, "kexec_load": 104, "kexec_file_load": 294,
            "init_module": 105, "finit_module": 273, "delete_module": 106, "keyctl": 219,
            "add_key": 217, "request_key": 218, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "open_by_handle_at": 265, "name_to_handle_at": 264,
            "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
            "fspick": 433, "mount_setattr": 442, "memfd_create": 279, "memfd_secret": 447,
            "process_madvise": 440, "process_mrelease": 448, "kcmp": 272, "quotactl": 60,
            "swapon": 224, "swapoff": 225, "reboot": 142, "syslog": 116, "acct": 89,
            "settimeofday": 170, "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266,
            "personality": 92, "vhangup": 58, "setuid": 146, "setgid": 144, "setreuid": 145,
            "setregid": 143, "setresuid": 147, "setresgid": 149, "setfsuid": 151,
            "setfsgid": 152, "setgroups": 159, "mknodat": 33, "setpriority": 140,
            "sched_setparam": 118, "sched_setscheduler": 119, "sched_setattr": 274,
            "ioprio_set": 30, "migrate_pages": 238, "move_pages": 239,
        },
    },
}  # fmt: skip

ARCH = platform.machine()


def supported() -> bool:
    return ARCH in _ARCHES


def denied_names() -> list[str]:
    """The syscalls the filter refuses outright on this architecture (for docs and tests)."""
    return sorted(_ARCHES[ARCH]["deny"]) if supported() else []


class _Asm:
    """A tiny BPF assembler with forward labels (jump offsets are 8-bit)."""

    def __init__(self) -> None:
        self.ops: list[tuple[int, int, object, object]] = []

    def emit(self, code: int, k: int, jt: object = 0, jf: object = 0) -> None:
        self.ops.append((code, k, jt, jf))

    def label(self, name: str) -> None:
        self.ops.append((-1, 0, name, 0))

    def assemble(self) -> bytes:
        where: dict[str, int] = {}
        real: list[tuple[int, int, object, object]] = []
        for op in self.ops:
            if op[0] == -1:
                where[str(op[2])] = len(real)
            else:
                real.append(op)
        out = b""
        for i, (code, k, jt, jf) in enumerate(real):
            offsets = [where[j] - i - 1 if isinstance(j, str) else int(j) for j in (jt, jf)]  # type: ignore[call-overload]
            if not all(0 <= o <= 255 for o in offsets):
                raise ValueError("seccomp filter jump out of range")
            out += struct.pack("HBBI", code, offsets[0], offsets[1], k & 0xFFFFFFFF)
        return out


def program(pid: int) -> bytes:
    """The filter's BPF code for a worker whose pid (and process group) is `pid`."""
    table = _ARCHES[ARCH]
    a = _Asm()
    a.emit(_LD, _OFF_ARCH)
    a.emit(_JEQ, table["audit"], 1, 0)
    a.emit(_RET, _RET_KILL_PROCESS)
    a.emit(_LD, _OFF_NR)
    if table["x32"]:
        a.emit(_JGE, _X32_BIT, "deny", 0)
    a.emit(_JEQ, table["clone"], "clone", 0)
    a.emit(_JEQ, table["clone3"], "enosys", 0)
    a.emit(_JEQ, table["kill"], "kill", 0)
    for nr in table["self_only"].values():
        a.emit(_JEQ, nr, "self", 0)
    for nr in table["deny"].values():
        a.emit(_JEQ, nr, "deny", 0)
    a.emit(_RET, _RET_ALLOW)
    a.label("deny")
    a.emit(_RET, _RET_ERRNO | _EPERM)
    a.label("enosys")
    a.emit(_RET, _RET_ERRNO | _ENOSYS)
    a.label("clone")
    a.emit(_LD, _OFF_ARG0)
    a.emit(_JSET, _CLONE_THREAD, "allow", 0)
    a.emit(_RET, _RET_ERRNO | _EPERM)
    a.label("kill")  # kill(pid, sig): itself, its group (0 or -pid)
    a.emit(_LD, _OFF_ARG0)
    a.emit(_JEQ, 0, "allow", 0)
    a.emit(_JEQ, -pid, "allow", 0)
    a.emit(_JEQ, pid, "allow", 0)
    a.emit(_RET, _RET_ERRNO | _EPERM)
    a.label("self")  # tgkill(tgid, ...), tkill(tid, ...), rt_*sigqueueinfo(tgid, ...)
    a.emit(_LD, _OFF_ARG0)
    a.emit(_JEQ, pid, "allow", 0)
    a.emit(_RET, _RET_ERRNO | _EPERM)
    a.label("allow")
    a.emit(_RET, _RET_ALLOW)
    return a.assemble()


def install(libc: Any, pid: int, *, all_threads: bool = False) -> None:
    """Load the filter into this no_new_privs process; raise OSError on failure.

    A worker is single-threaded when it confines itself, except on a GPU, whose driver starts
    threads when it is opened: `all_threads` then puts every thread under the filter at once
    (seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC)."""
    code = program(pid)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("@HP", len(code) // 8, ctypes.addressof(buf))
    if all_threads:
        nr = _SECCOMP_SYSCALL.get(ARCH)
        if nr is None:
            raise OSError(0, f"seccomp filter not loaded: no seccomp(2) number for {ARCH}")
        rc = libc.syscall(nr, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.c_char_p(prog))
        if rc != 0:
            err = ctypes.get_errno() if rc < 0 else 0
            why = os.strerror(err) if rc < 0 else f"thread {rc} could not take it"
            raise OSError(err, f"seccomp filter not loaded on every thread: {why}")
        return
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.c_char_p(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter not loaded: {os.strerror(err)}")
