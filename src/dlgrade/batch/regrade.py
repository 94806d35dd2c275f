"""Incremental regrades: a content digest per submission, and which rows an old gradebook still holds.

A row's digest covers what decides its grade: the submission's bytes (a zip as uploaded, or
every file of a folder, names included), the course (course.toml, graders/, reference/ and the
graded names) and the engine (dlgrade's and torch's versions). `grade batch --since OLD.json`
keeps an old row only when its digest is unchanged and it was not an `error`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from dlgrade import __version__
from dlgrade.batch.entries import Entry, Row
from dlgrade.core.manifest import Course

_MAX_FILES = 5000  # a folder with more is hashed by its listing only past this many files


def _files(folder: Path) -> Iterable[tuple[str, Path]]:
    for path in sorted(folder.rglob("*"))[:_MAX_FILES]:
        yield path.relative_to(folder).as_posix(), path


def _feed(h: hashlib._Hash, path: Path) -> None:
    """The bytes of a regular file; a symlink or special file by what it is, never followed."""
    if path.is_symlink():
        h.update(b"L" + str(path.readlink()).encode("utf-8", "surrogateescape"))
    elif path.is_file():
        h.update(b"F" + path.read_bytes())
    else:
        h.update(b"D" if path.is_dir() else b"S")


def course_digest(course: Course, names: tuple[str, ...]) -> str:
    """What a regrade depends on besides the submission: course, graded names, engine."""
    h = hashlib.sha256()
    for part in (f"dlgrade {__version__}", f"torch {_version('torch')}", "\0".join(sorted(names))):
        h.update(part.encode() + b"\0")
    h.update(b"course.toml\0" + (course.root / "course.toml").read_bytes())
    for folder in (course.root / "graders", course.reference_dir()):
        for name, path in _files(folder) if folder.is_dir() else ():
            if "__pycache__" not in name:
                h.update(name.encode() + b"\0")
                _feed(h, path)
    return h.hexdigest()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def entry_digest(entry: Entry, course_part: str) -> str:
    """The digest of one submission under one course (an unreadable entry still gets one)."""
    h = hashlib.sha256(course_part.encode() + b"\0")
    path = Path(entry.path)
    try:
        if path.is_dir() and not path.is_symlink():
            for name, sub in _files(path):
                h.update(name.encode("utf-8", "surrogateescape") + b"\0")
                _feed(h, sub)
        else:
            _feed(h, path)
    except OSError as exc:
        h.update(f"unreadable: {exc}".encode())
    return h.hexdigest()


def plan(
    entries: list[Entry], digests: dict[str, str], old: Iterable[Row], *, errors_only: bool = False
) -> tuple[list[Entry], list[Row]]:
    """(entries to grade, old rows kept). An old row is kept unless it was an `error`, or
    (without `errors_only`) its digest differs; an entry the old gradebook lacks is graded."""
    previous = {r.id: r for r in old}
    todo: list[Entry] = []
    kept: list[Row] = []
    for entry in entries:
        row = previous.get(entry.id)
        if row is None or row.status == "error" or (not errors_only and row.digest != digests[entry.id]):
            todo.append(entry)
        else:
            kept.append(row)
    return todo, kept


def stamp(rows: Iterable[Row], digests: dict[str, str]) -> list[Row]:
    """Freshly graded rows with their digests."""
    return [replace(r, digest=digests[r.id]) for r in rows]
