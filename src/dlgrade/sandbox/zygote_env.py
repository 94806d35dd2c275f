"""What the zygote starts with: an environment of its own, and a grader nobody can read."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile

_PASS_THROUGH_ENV = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "SYSTEMROOT")


def minimal_env() -> dict[str, str]:
    """The whole environment student code sees: no tokens, no secrets of the caller."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": tempfile.gettempdir(),
        "TMPDIR": tempfile.gettempdir(),
    }
    env.update({k: os.environ[k] for k in _PASS_THROUGH_ENV if k in os.environ})
    return env


def undumpable() -> None:
    """Keep same-user processes from reading this grader's memory and environment (Linux)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE, 0
