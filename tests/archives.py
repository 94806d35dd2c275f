"""Hostile and broken submission archives, built as real zip files, with the reason each must get.

Each builder writes one file into `folder` and returns its path; `outside` is a path outside
any work directory where an escaping member would land if extraction were unsafe. REASONS maps
each builder's name to a fragment of the one-line reason the row must carry.
"""

from __future__ import annotations

import random
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

GOOD_MODULE = "def logsumexp(x, dim=-1, keepdim=False):\n    raise NotImplementedError\n"


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; that is the point
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for info, data in members:
                zf.writestr(info, data)
    return path


def traversal(folder: Path, outside: Path) -> Path:
    depth = len(folder.parts) + 4
    name = "../" * depth + str(outside).lstrip("/")
    return _zip(folder / "traversal.zip", [("stability.py", GOOD_MODULE.encode()), (name, b"escaped\n")])


def nested_traversal(folder: Path, outside: Path) -> Path:
    return _zip(folder / "nested_traversal.zip", [("exercises/../../../escaped.py", b"x = 1\n")])


def absolute(folder: Path, outside: Path) -> Path:
    members = [("stability.py", GOOD_MODULE.encode()), (str(outside), b"escaped\n")]
    return _zip(folder / "absolute.zip", members)


def symlink(folder: Path, outside: Path) -> Path:
    link = zipfile.ZipInfo("stability.py")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip(folder / "symlink.zip", [(link, str(outside).encode())])


def ratio_bomb(folder: Path, outside: Path) -> Path:
    """A 12 MiB module of spaces packs into ~12 KiB: a ratio of about 1000:1."""
    return _zip(folder / "ratio_bomb.zip", [("stability.py", b" " * (12 << 20))])


def size_bomb(folder: Path, outside: Path) -> Path:
    """Members each under the ratio cap that together unpack past the total cap."""
    chunk = random.Random(0).randbytes(1 << 20)  # 1 MiB that deflate cannot shrink
    return _zip(folder / "size_bomb.zip", [(f"data{i}.bin", chunk) for i in range(20)])


def lying_size(folder: Path, outside: Path) -> Path:
    """The central directory says 10 bytes; the member holds 100 KiB."""
    path = _zip(folder / "lying_size.zip", [("stability.py", b"#" * (100 << 10))])
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)  # uncompressed size in the central record
    path.write_bytes(bytes(data))
    return path


def duplicate_names(folder: Path, outside: Path) -> Path:
    return _zip(
        folder / "duplicate_names.zip",
        [("stability.py", GOOD_MODULE.encode()), ("stability.py", b"def logsumexp(x): return x\n")],
    )


def file_and_folder(folder: Path, outside: Path) -> Path:
    members = [("stability.py", b"x = 1\n"), ("stability.py/inner.py", b"")]
    return _zip(folder / "file_and_folder.zip", members)


def encrypted(folder: Path, outside: Path) -> Path:
    """The 'encrypted' flag set in both headers (zipfile cannot write real encryption)."""
    path = _zip(folder / "encrypted.zip", [("stability.py", GOOD_MODULE.encode())])
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + offset
        struct.pack_into("<H", data, at, struct.unpack_from("<H", data, at)[0] | 0x1)
    path.write_bytes(bytes(data))
    return path


def too_many_members(folder: Path, outside: Path) -> Path:
    return _zip(folder / "too_many_members.zip", [(f"f{i}.txt", b"") for i in range(1001)])


def not_a_zip(folder: Path, outside: Path) -> Path:
    path = folder / "not_a_zip.zip"
    path.write_text("this is a PDF, honest\n")
    return path


def truncated(folder: Path, outside: Path) -> Path:
    path = _zip(folder / "truncated.zip", [("stability.py", GOOD_MODULE.encode() * 50)])
    path.write_bytes(path.read_bytes()[:-40])
    return path


def no_modules(folder: Path, outside: Path) -> Path:
    return _zip(folder / "no_modules.zip", [("README.txt", b"I forgot the code\n"), ("notes/", b"")])


Builder = Callable[[Path, Path], Path]
HOSTILE: dict[str, tuple[Builder, str]] = {
    "traversal": (traversal, "path traversal"),
    "nested_traversal": (nested_traversal, "path traversal"),
    "absolute": (absolute, "absolute path"),
    "symlink": (symlink, "symlink"),
    "ratio_bomb": (ratio_bomb, "zip bomb"),
    "size_bomb": (size_bomb, "unpacks to more than"),
    "lying_size": (lying_size, "not a readable zip"),
    "duplicate_names": (duplicate_names, "duplicate name"),
    "file_and_folder": (file_and_folder, "both a file and a folder"),
    "encrypted": (encrypted, "encrypted"),
    "too_many_members": (too_many_members, "members"),
    "not_a_zip": (not_a_zip, "not a zip archive"),
    "truncated": (truncated, "not a zip archive"),
    "no_modules": (no_modules, "none of the exercise modules"),
}
