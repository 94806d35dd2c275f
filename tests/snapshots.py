"""What a hostile submission must leave untouched: the course, the installation, /dev/shm, the
process table; and what it must not get into any output: the course's private lines."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

MARKER = "dlgrade-pwned"  # every hostile fixture names what it plants or starts with this


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below `root` (caches excluded)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts:
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def installation_listing() -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file of the Python installation and its packages:
    any write, even one that restores the content, changes a file's mtime."""
    out = {}
    for root in sorted({sys.prefix, sys.base_prefix}):
        for folder, _dirs, files in os.walk(root):
            if "__pycache__" in folder:
                continue
            for name in files:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                out[path] = (st.st_size, st.st_mtime_ns)
    return out


# Python's multiprocessing names its semaphores sem.mp-*: every Python process on the machine
# (the other test workers under pytest-xdist, other users) makes and removes them while a test
# runs, so they say nothing about the submission. Whatever a hostile fixture plants has its
# own name (MARKER); every other entry is compared.
_OTHERS = ("sem.mp-",)


def shm_listing() -> set[str]:
    try:
        return {name for name in os.listdir("/dev/shm") if not name.startswith(_OTHERS)}
    except OSError:
        return set()


def processes_with(text: str) -> list[int]:
    """Live processes whose command line holds `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def marked_processes() -> list[int]:
    """Live processes whose command line carries MARKER."""
    return processes_with(MARKER)


def private_lines(course_root: Path, min_chars: int = 30) -> set[str]:
    """Code lines of reference/ and graders/ that the public stubs do not have (lines with a
    string in them are left out: check names and hints are meant to be shown)."""
    public = {
        line.strip() for p in (course_root / "exercises").glob("*.py") for line in p.read_text().splitlines()
    }
    out = set()
    for folder in ("reference", "graders"):
        for p in (course_root / folder).glob("*.py"):
            for line in p.read_text().splitlines():
                line = line.strip()
                quoted = '"' in line or "'" in line
                if len(line) >= min_chars and line not in public and not line.startswith("#") and not quoted:
                    out.add(line)
    return out


def leaked(text: str, lines: set[str]) -> list[str]:
    return [line for line in lines if line in text]
