"""The sandbox's audit hook (PEP 578): no processes, signals, sockets, ctypes or stray files.

Once added, an audit hook cannot be removed from Python code. It denies what graded code
never needs and what a submission could use to reach the grader: reading files outside
the interpreter's own installation and the submission folder, writing any file, starting
processes, sending signals, opening sockets, loading native code and walking the heap.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

_DENY_PREFIXES = (
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "socket.",
    "ctypes.",
    "shutil.",
    "subprocess.",
    "winreg.",
    "msvcrt.",
    "_winapi.",
)
_DENY = frozenset(
    {
        "os.system",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "sys.addaudithook",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "mmap.__new__",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.symlink",
        "os.link",
        "os.utime",
        "os.setxattr",
        "os.removexattr",
        "os.chflags",
        "os.lchflags",
        "os.startfile",
        "os.add_dll_directory",
        "pty.spawn",
        "webbrowser.open",
        "urllib.Request",
        "ftplib.connect",
        "http.client.connect",
        "smtplib.connect",
        "imaplib.open",
        "poplib.connect",
        "telnetlib.Telnet.open",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
DENIED_IMPORTS = frozenset(
    {
        "ctypes",
        "_ctypes",
        "cffi",
        "_cffi_backend",
        "subprocess",
        "multiprocessing",
        "socket",
        "_socket",
        "dlgrade",
        "reference",
        "graders",
        "pty",
        "mmap",
        "_posixsubprocess",
    }
)


def make_hook(read_roots: Iterable[str], on_deny: Callable[[str, str], None]) -> Callable[..., None]:
    """An audit hook that calls `on_deny(event, detail)` and raises PermissionError on a denial."""
    roots = tuple(sorted({os.path.realpath(r) for r in read_roots if r}))

    def readable(path: Any) -> bool:
        if isinstance(path, int):
            return path in (0, 1, 2)
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == r or real.startswith(r + os.sep) for r in roots)

    def deny(event: str, detail: str) -> None:
        on_deny(event, detail)
        raise PermissionError(f"graded code may not {detail}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing:
                deny(event, f"write files ({path!s:.80})")
            if path is not None and not readable(path):
                deny(event, f"read files outside the submission ({path!s:.80})")
        elif event in ("os.listdir", "os.scandir"):
            if args and args[0] is not None and not readable(args[0]):
                deny(event, f"list folders outside the submission ({args[0]!s:.80})")
        elif event == "import":
            top = str(args[0]).partition(".")[0]
            if top in DENIED_IMPORTS:
                deny(event, f"import {top}")
        elif event in _DENY or event.startswith(_DENY_PREFIXES):
            deny(event, f"use {event}")

    return hook


def install(read_roots: Iterable[str], on_deny: Callable[[str, str], None]) -> None:
    sys.addaudithook(make_hook(read_roots, on_deny))


def denial(event: str) -> str | None:
    """What the hook denies on `event`, in the grader's words without the event's arguments
    (a path, say); None if the hook denies nothing on an event of that name."""
    if event == "open":
        return "open a file outside what graded code may read, or write one"
    if event in ("os.listdir", "os.scandir"):
        return "list folders outside the submission"
    if event == "import":
        return "import a module graded code may not use"
    if event in _DENY:
        return f"use {event}"
    prefix = next((p for p in _DENY_PREFIXES if event.startswith(p)), None)
    return None if prefix is None else f"use {prefix.rstrip('.')} (denied in the sandbox)"
