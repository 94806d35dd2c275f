"""Pack the running grading engine into a wheel (PEP 427) that a student bundle installs.

The wheel holds exactly the engine that built the bundle: the files of the installed
`dlgrade` package (no bytecode) and the installed distribution's own metadata (its pinned
dependencies and the `grade` entry point). It needs no build backend and no source tree,
and the same engine always packs to the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

import dlgrade

PACKAGE = "dlgrade"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: fixed, so a rebuild gives the same bytes
_SKIP_SUFFIXES = (".pyc", ".pyo")
WHEEL_TEXT = "Wheel-Version: 1.0\nGenerator: dlgrade release\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


class WheelError(RuntimeError):
    """The engine's installed files or metadata cannot be packed; the message is one line."""


def engine_python() -> str:
    """The Python versions the engine supports, as its metadata says (e.g. ">=3.11")."""
    return importlib.metadata.metadata(PACKAGE)["Requires-Python"] or "3"


PINNED = ("torch",)  # what a grade depends on: pinned to the versions graded with


def engine_requirements() -> list[str]:
    """The engine's own dependencies (without extras), as its metadata states them, with torch
    pinned to the version installed here: a bundle grades as its author did."""
    requires = importlib.metadata.requires(PACKAGE) or []
    out = []
    for req in (r for r in requires if "extra ==" not in r):
        name = Requirement(req).name
        if name in PINNED:
            req = f"{name}=={importlib.metadata.version(name).split('+')[0]}"
        out.append(req)
    return out


def package_files() -> list[tuple[str, bytes]]:
    """(archive name, contents) of every file of the installed package, bytecode left out."""
    root = Path(dlgrade.__file__).resolve().parent
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in _SKIP_SUFFIXES:
            out.append((f"{PACKAGE}/{path.relative_to(root).as_posix()}", path.read_bytes()))
    return out


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_engine_wheel(dest: Path) -> Path:
    """Write `dlgrade-<version>-py3-none-any.whl` into folder `dest` and return its path."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
        metadata = dist.read_text("METADATA")
    except importlib.metadata.PackageNotFoundError:
        raise WheelError(f"{PACKAGE} is not installed as a distribution; install it with pip") from None
    if not metadata:
        raise WheelError(f"the installed {PACKAGE} has no METADATA")
    version = dist.version
    info = f"{PACKAGE}-{version}.dist-info"
    members = package_files()
    members += [
        (f"{info}/METADATA", metadata.encode()),
        (f"{info}/WHEEL", WHEEL_TEXT.encode()),
        (f"{info}/entry_points.txt", (dist.read_text("entry_points.txt") or "").encode()),
        (f"{info}/top_level.txt", f"{PACKAGE}\n".encode()),
    ]
    record = "".join(f"{_record_line(n, d)}\n" for n, d in members) + f"{info}/RECORD,,\n"
    members.append((f"{info}/RECORD", record.encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    path = dest / f"{PACKAGE}-{version}-py3-none-any.whl"
    path.write_bytes(buf.getvalue())
    return path
