"""Open untrusted submission archives safely: every member checked before anything is written.

A zip is refused, with a one-line reason, for any of: not a zip, too large, too many members,
an absolute or parent-relative (`..`) path, a symlink or other special file, an encrypted
member, two members with the same name, a member compressed more than MAX_RATIO times, or
more than MAX_TOTAL_BYTES once unpacked. Accepted zips are unpacked into a folder the caller
owns, with files created fresh (never through an existing path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlgrade.intake.errors import SubmissionError


@dataclass(frozen=True)
class Limits:
    archive_bytes: int = 32 << 20  # the zip file itself
    total_bytes: int = 16 << 20  # all members, unpacked
    members: int = 1000
    ratio: float = 100.0  # unpacked / packed, for members above ratio_floor bytes
    ratio_floor: int = 64 << 10
    name_chars: int = 512
    depth: int = 16


LIMITS = Limits()
_CHUNK = 1 << 16


class ArchiveError(SubmissionError):
    """The archive is unsafe or unusable; the message says why in one line."""


def _member_path(info: zipfile.ZipInfo, limits: Limits) -> PurePosixPath | None:
    """The member's relative path, or None for the archive's root; raises if it is unsafe."""
    name = info.filename
    if len(name) > limits.name_chars or "\x00" in name:
        raise ArchiveError(f"member name too long or malformed: {name[:60]!r}")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise ArchiveError(f"absolute path in archive: {name!r}")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"path traversal in archive: {name!r}")
    if len(parts) > limits.depth:
        raise ArchiveError(f"member nested too deep: {name!r}")
    return PurePosixPath(*parts) if parts else None


def _member_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise ArchiveError(f"symlink in archive: {info.filename!r}")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"special file in archive: {info.filename!r}")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"encrypted member in archive: {info.filename!r}")
    return "dir" if info.is_dir() or kind == stat.S_IFDIR else "file"


def _check_sizes(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.total_bytes:
        raise ArchiveError(f"{info.filename!r} unpacks to more than {limits.total_bytes >> 20} MiB")
    if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
        raise ArchiveError(
            f"{info.filename!r} is compressed {info.file_size / max(info.compress_size, 1):.0f}:1 "
            f"(more than {limits.ratio:g}:1; a zip bomb?)"
        )


def plan(zf: zipfile.ZipFile, limits: Limits = LIMITS) -> list[tuple[zipfile.ZipInfo, PurePosixPath, str]]:
    """Check every member; return (info, path, 'file'|'dir') for each, or raise ArchiveError."""
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise ArchiveError(f"archive has {len(infos)} members (at most {limits.members})")
    out: list[tuple[zipfile.ZipInfo, PurePosixPath, str]] = []
    seen: dict[PurePosixPath, str] = {}
    total = 0
    for info in infos:
        path, kind = _member_path(info, limits), _member_kind(info)
        if path is None:
            continue
        _check_sizes(info, limits)
        total += info.file_size
        if total > limits.total_bytes:
            raise ArchiveError(f"archive unpacks to more than {limits.total_bytes >> 20} MiB")
        previous = seen.get(path)
        if previous is not None and not (previous == kind == "dir"):
            raise ArchiveError(f"duplicate name in archive: {str(path)!r}")
        seen[path] = kind
        out.append((info, path, kind))
    for path in seen:
        for parent in path.parents:
            if seen.get(parent) == "file":
                raise ArchiveError(f"{str(parent)!r} is both a file and a folder in the archive")
    return out


def extract_zip(archive: Path, dest: Path, limits: Limits = LIMITS) -> None:
    """Unpack `archive` into the existing, empty folder `dest`, or raise ArchiveError."""
    try:
        size = archive.stat().st_size
    except OSError as exc:
        raise ArchiveError(f"cannot read {archive.name}: {exc.strerror}") from None
    if size > limits.archive_bytes:
        raise ArchiveError(f"{archive.name} is larger than {limits.archive_bytes >> 20} MiB")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = plan(zf, limits)
            budget = [limits.total_bytes]
            for info, path, kind in members:
                target = dest.joinpath(*path.parts)
                if kind == "dir":
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    _write_member(zf, info, target, budget)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ArchiveError(f"{archive.name} is not a readable zip archive ({exc})") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        raise ArchiveError(f"{archive.name} cannot be unpacked ({exc})") from None


def _write_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int]) -> None:
    """Stream one member out, counting real bytes (declared sizes are not trusted)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "wb") as out, zf.open(info) as src:
        while chunk := src.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise ArchiveError("archive unpacks to more than its declared size (a zip bomb?)")
            out.write(chunk)


def copy_modules(src: Path, dest: Path, limits: Limits = LIMITS) -> None:
    """Copy the regular .py files directly in `src` into `dest`; symlinks refuse the folder."""
    files, total = [], 0
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        if not entry.name.endswith(".py"):
            continue
        if entry.is_symlink():
            raise ArchiveError(f"symlink in submission folder: {entry.name!r}")
        if not entry.is_file(follow_symlinks=False):
            continue
        total += entry.stat(follow_symlinks=False).st_size
        files.append(entry)
    if len(files) > limits.members or total > limits.total_bytes:
        raise ArchiveError(f"submission folder holds more than {limits.total_bytes >> 20} MiB of .py files")
    for entry in files:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(entry.path, flags), "rb") as f, open(dest / entry.name, "xb") as out:
            shutil.copyfileobj(f, out)


@contextlib.contextmanager
def private_folder(workdir: Path | None = None) -> Iterator[Path]:
    """A fresh folder only this user can read, removed afterwards whatever graded code left in it."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-sub-", dir=workdir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)
