"""The worker's identity layer: all capabilities dropped (bounding and ambient sets too), then
uid/gid `nobody` where the Python installation is readable by others, else uid 0 with no
capabilities and locked securebits, so that nothing can regain them."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from typing import Any

from dlgrade.sandbox.syscall import ConfineError, check

_PR_CAPBSET_DROP = 24
_PR_SET_KEEPCAPS = 8
_PR_SET_SECUREBITS = 28
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_SECURE_BITS = 0x2F  # NOROOT, NO_SETUID_FIXUP and the three locks; KEEP_CAPS off and locked
_CAP_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


def drop_identity(libc: Any, uid: int, gid: int, workdir: str) -> None:
    """Become `uid`/`gid` with no capability left (root: uid 0 with none, securebits locked),
    after handing `workdir` and its files to that user. Raises ConfineError if any is left."""
    if uid != 0:
        os.chown(workdir, uid, gid)
        for name in os.listdir(workdir):
            os.chown(os.path.join(workdir, name), uid, gid)
    check(libc.prctl(_PR_SET_KEEPCAPS, 0, 0, 0, 0), "PR_SET_KEEPCAPS")
    for cap in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break  # past the last capability this kernel knows
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid == 0:
        check(libc.prctl(_PR_SET_SECUREBITS, _SECURE_BITS, 0, 0, 0), "PR_SET_SECUREBITS")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _drop_capabilities(libc)
    left = _effective_capabilities()
    if left:
        raise ConfineError(f"capabilities left after dropping them: {left:#x}")


def drop_capabilities(libc: Any) -> None:
    """Drop every capability of this process: bounding, ambient, effective and permitted sets
    (a worker in a user namespace of its own holds all of them there)."""
    for cap in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _drop_capabilities(libc)


def _drop_capabilities(libc: Any) -> None:
    nr = _SYS_CAPSET.get(platform.machine())
    if nr is None:
        raise ConfineError(f"capset: unknown architecture {platform.machine()}")
    header = struct.pack("Ii", _CAP_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} triples, all zero
    check(libc.syscall(nr, ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")


def _effective_capabilities() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapEff:", "CapPrm:")) and int(line.split()[1], 16):
                return int(line.split()[1], 16)
    return 0
