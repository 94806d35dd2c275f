"""The C library for the kernel's containment calls, and the error that stops a worker when one fails."""

from __future__ import annotations

import ctypes
import os
from typing import Any


class ConfineError(RuntimeError):
    """A layer the kernel offers could not be applied: the worker must not run student code."""


def libc() -> Any:
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    lib.prctl.restype = ctypes.c_int
    return lib


def check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise ConfineError(f"{what} failed: {os.strerror(err)}")
    return ret
