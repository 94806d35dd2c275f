"""Digests of the course files the grading process executes, taken before and after grading.

The grading process imports the graders and the model solutions before any student code runs;
the digests make sure that nothing changed them while a submission was graded (kernel
containment already keeps workers from writing there: this is the check that it held).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from dlgrade.core.manifest import MANIFEST_NAME, Course


def course_files(course: Course) -> list[Path]:
    """The manifest, the graders, the model solutions and the known mistakes (every .py below
    their folders)."""
    files = [course.root / MANIFEST_NAME]
    for folder in (course.graders_dir(), course.reference_dir(), course.mistakes_dir()):
        if folder.is_dir():
            files.extend(sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts))
    return files


def digests(course: Course) -> dict[str, str]:
    """path -> SHA-256 of each course file ('' for one that cannot be read)."""
    return {str(path): _digest(path) for path in course_files(course)}


# A process that grades again and again (watch, a batch) hashes a file again only when its
# status changed: its inode, size, mtime or ctime. Any write changes the ctime, which no
# process can set back. A file changed within SETTLED_S of being hashed is never kept (the
# kernel's timestamps are coarse: two writes in one tick share one), as git does for its index.
SETTLED_S = 2.0
_KNOWN: dict[str, tuple[tuple[int, ...], str]] = {}


def _digest(path: Path) -> str:
    try:
        st = path.stat()
        status = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = _KNOWN.get(str(path))
        if known is not None and known[0] == status:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
    if time.time_ns() - st.st_ctime_ns > SETTLED_S * 1e9:
        _KNOWN[str(path)] = (status, digest)
    return digest


def changes(course: Course, before: dict[str, str]) -> str:
    """One line naming the course files added, removed or changed since `before`; "" if none."""
    after = digests(course)
    changed = sorted(set(before) ^ set(after) | {p for p in before if after.get(p, before[p]) != before[p]})
    if not changed:
        return ""
    shown = ", ".join(Path(p).relative_to(course.root).as_posix() for p in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return f"course files changed while this submission was graded: {shown}{more}"
