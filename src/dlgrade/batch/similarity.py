"""`grade similarity`: pairs of submissions ranked by the code they share, per exercise and per
module, with the stubs' given code discounted as boilerplate (everyone was handed it).

The fingerprints are copydetect's (winnowing over normalised tokens, the MOSS method): renamed
variables and moved whitespace still match. A high score is a reason for a person to look at
two submissions side by side, never a verdict: short exercises have few ways to be written.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlgrade.batch.entries import Entry, discover
from dlgrade.core.manifest import Course
from dlgrade.core.spans import segment
from dlgrade.intake.errors import SubmissionError
from dlgrade.intake.submission import find_modules

K = 25  # tokens in a fingerprint: shorter common runs are noise (copydetect's default)
WINDOW = 1
MAX_SOURCE = 1 << 20  # bytes read of one module


class SimilarityError(ValueError):
    """The comparison cannot run (the detector is not installed); one line."""


@dataclass(frozen=True)
class Match:
    unit: str  # "stability.py" (a module) or "stability.py::stable_softmax" (an exercise)
    a: str  # submission ids, a < b
    b: str
    share_a: float  # the part of a's code (tokens, boilerplate left out) that b has too
    share_b: float
    tokens: int  # tokens in common
    code_a: str
    code_b: str
    slices_a: tuple[tuple[int, int], ...]  # where the common code lies in code_a
    slices_b: tuple[tuple[int, int], ...]

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass(frozen=True)
class Similarity:
    submissions: tuple[str, ...]  # ids read
    skipped: tuple[str, ...]  # ids whose modules could not be read (with why, in `reasons`)
    reasons: tuple[str, ...]
    matches: tuple[Match, ...]  # every pair at or above the threshold, highest first


def compare(
    course: Course,
    folder: Path,
    names: Sequence[str] = (),
    *,
    threshold: float = 0.5,
    min_tokens: int = 40,
    ignore: tuple[Path, ...] = (),
) -> Similarity:
    """Every pair of submissions in `folder`, compared exercise by exercise and module by module."""
    try:
        import copydetect  # noqa: F401
    except ImportError:
        raise SimilarityError(
            "grade similarity needs copydetect: pip install 'dlgrade[similarity]'"
        ) from None
    exercises = course.select(list(names))
    modules = sorted({e.module for e in exercises})
    read: dict[str, dict[str, str]] = {}
    skipped, reasons = [], []
    for entry in discover(folder, ignore):
        try:
            read[entry.id] = _sources(course, entry, modules)
        except (SubmissionError, OSError, ValueError) as exc:
            skipped.append(entry.id)
            reasons.append(f"{entry.id}: {exc}")
    units = _units(course, exercises, modules, read)
    matches = []
    for unit, (given, codes) in units.items():
        boilerplate = sorted(_fingerprint(unit, given).hashes) if given else []
        prints = {sid: _fingerprint(unit, code, boilerplate) for sid, code in codes.items()}
        for a, b in itertools.combinations(sorted(prints), 2):
            match = _match(unit, a, b, prints[a], prints[b])
            if match is not None and match.tokens >= min_tokens and match.score >= threshold:
                matches.append(match)
    matches.sort(key=lambda m: (-m.score, -m.tokens, m.unit, m.a, m.b))
    return Similarity(tuple(sorted(read)), tuple(skipped), tuple(reasons), tuple(matches))


def _sources(course: Course, entry: Entry, modules: list[str]) -> dict[str, str]:
    """module -> source text of one submission (a zip is unpacked safely, in a private folder)."""
    from dlgrade.intake import archive

    path = Path(entry.path)
    if path.is_symlink():
        raise archive.ArchiveError(f"{path.name} is a symlink")
    with _opened(course, path, entry.id) as where:
        out = {}
        for module in modules:
            file = where / f"{module}.py"
            if file.is_file() and not file.is_symlink():
                with open(file, encoding="utf-8", errors="replace") as f:
                    out[module] = f.read(MAX_SOURCE)
        return out


@contextlib.contextmanager
def _opened(course: Course, path: Path, label: str) -> Iterator[Path]:
    from dlgrade.intake import archive

    if path.is_dir():
        yield find_modules(course, path, label)
        return
    if not archive.is_zip(path):
        raise archive.ArchiveError(f"{path.name} is not a zip archive or a folder")
    with archive.private_folder() as folder:
        archive.extract_zip(path, folder)
        yield find_modules(course, folder, label)


def _units(
    course: Course, exercises: Sequence[Any], modules: list[str], read: dict[str, dict[str, str]]
) -> dict[str, tuple[str, dict[str, str]]]:
    """unit -> (the stub's code for it, {submission id: its code})."""
    units: dict[str, tuple[str, dict[str, str]]] = {}
    for module in modules:
        stub = _read(course.exercises_dir() / f"{module}.py")
        units[f"{module}.py"] = (stub, {sid: m[module] for sid, m in read.items() if module in m})
    for e in exercises:
        stub = _function(_read(course.exercises_dir() / f"{e.module}.py"), e.function)
        codes = {sid: _function(m.get(e.module, ""), e.function) for sid, m in read.items()}
        units[f"{e.module}.py::{e.function}"] = (stub, {sid: c for sid, c in codes.items() if c})
    return units


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _function(source: str, name: str) -> str:
    """The text of the last top-level definition of `name` ('' when there is none or no parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name]
    return segment(source.split("\n"), found[-1]) if found else ""


def _fingerprint(unit: str, code: str, boilerplate: Any = None) -> Any:
    from copydetect import CodeFingerprint

    name = unit.split("::")[0]
    return CodeFingerprint(name, K, WINDOW, boilerplate, language="python", fp=io.StringIO(code))


def _match(unit: str, a: str, b: str, fa: Any, fb: Any) -> Match | None:
    from copydetect import compare_files

    tokens, (share_a, share_b), (slices_a, slices_b) = compare_files(fa, fb)
    if not tokens:
        return None
    return Match(
        unit,
        a,
        b,
        float(share_a),
        float(share_b),
        int(tokens),
        fa.raw_code,
        fb.raw_code,
        _pairs(slices_a),
        _pairs(slices_b),
    )


def _pairs(slices: Any) -> tuple[tuple[int, int], ...]:
    if getattr(slices, "ndim", 0) != 2:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1], strict=True))
