"""Submission packages: one zip with the student's modules, the result they got and a manifest.

Layout: `submission/<module>.py` for each exercise module present, `result.json` (the result
of grading exactly those files), `manifest.json` (format, versions, UTC time and the SHA-256 of
every other file). `verify_package` regrades the modules in a private folder: the regrade is
the score that counts, and every exercise whose claimed score differs is reported.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course
from dlgrade.core.result import ExerciseResult, GradeResult, score_text
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.intake.errors import SubmissionError
from dlgrade.report.json_report import render_json

PACKAGE_FORMAT = "dlgrade-package"
PACKAGE_VERSION = 1
MANIFEST = "manifest.json"
RESULT = "result.json"
MODULES = "submission"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # member timestamps; the manifest carries the real time


class PackageError(SubmissionError):
    """The zip is not a dlgrade package (no or unreadable manifest, no modules)."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_package(course: Course, folder: Path, result: GradeResult) -> bytes:
    """The package's bytes: the modules found in `folder`, the result and the manifest."""
    files = {
        f"{MODULES}/{m}.py": (folder / f"{m}.py").read_bytes()
        for m in course.modules
        if (folder / f"{m}.py").is_file()
    }
    files[RESULT] = render_json(result).encode("utf-8")
    manifest = {
        "format": PACKAGE_FORMAT,
        "schema_version": PACKAGE_VERSION,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "course": course.title,
        "dlgrade_version": _version("dlgrade"),
        "torch_version": _version("torch"),
        "python_version": platform.python_version(),
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def write_package(course: Course, folder: Path, result: GradeResult, output: Path) -> Path:
    return write_atomic(output, build_package(course, folder, result))


@dataclass(frozen=True)
class Difference:
    exercise: str
    claimed: float | None
    regraded: float
    max_score: float

    def describe(self) -> str:
        claim = "nothing" if self.claimed is None else score_text(self.claimed, self.max_score)
        return f"{self.exercise}: claimed {claim}, regraded {score_text(self.regraded, self.max_score)}"


@dataclass(frozen=True)
class Verification:
    regrade: GradeResult
    differences: tuple[Difference, ...]
    problems: tuple[str, ...]  # integrity: files changed, missing or unlisted; unreadable claim
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(f"not a dlgrade package: no {MANIFEST}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"not a dlgrade package: {MANIFEST} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        raise PackageError(f"not a dlgrade package: {MANIFEST} is not a {PACKAGE_FORMAT} manifest")
    if not isinstance(manifest.get("files"), dict):
        raise PackageError(f"not a dlgrade package: {MANIFEST} lists no files")
    if not (folder / MODULES).is_dir():
        raise PackageError(f"not a dlgrade package: no {MODULES}/ folder")
    return manifest


def integrity_problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Files whose SHA-256 differs from the manifest, files it lists that are gone, files it omits."""
    listed: dict[str, Any] = manifest["files"]
    present = {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    problems = [f"{name}: not listed in {MANIFEST}" for name in sorted(present - set(listed))]
    for name, digest in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif sha256((folder / name).read_bytes()) != digest:
            problems.append(f"{name}: changed after packaging (SHA-256 differs from {MANIFEST})")
    return problems


def read_claim(folder: Path) -> tuple[GradeResult | None, str]:
    """The result the package claims, or None and why it cannot be read."""
    try:
        return GradeResult.from_dict(json.loads((folder / RESULT).read_text(encoding="utf-8"))), ""
    except FileNotFoundError:
        return None, f"{RESULT}: missing"
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"{RESULT}: not a dlgrade result ({type(exc).__name__}: {exc})"


def compare(claimed: GradeResult | None, regrade: GradeResult) -> tuple[Difference, ...]:
    """Every regraded exercise whose claimed score (or maximum) is not the regrade's."""
    claims = {e.id: e for e in claimed.exercises} if claimed is not None else {}
    out = []
    for e in regrade.exercises:
        c = claims.get(e.id)
        if c is None or abs(c.score - _comparable(c, e)) > _slack(c) or abs(c.max_score - e.max_score) > 1e-6:
            out.append(Difference(e.id, None if c is None else c.score, e.score, e.max_score))
    return tuple(out)


def _slack(claim: ExerciseResult) -> float:
    """How far a claimed score may be from the sum of its checks' shares: the score is their
    exact sum rounded once to two decimals, each share shows 4 (docs/grading.md)."""
    return 1e-3 if all(c.outcome != "deferred" for c in claim.checks) else 0.005 + 0.00005 * len(claim.checks)


def _comparable(claim: ExerciseResult, regrade: ExerciseResult) -> float:
    """The regrade's score on the checks the claim ran: a student bundle defers its hidden
    checks (they count 0 in its claim), so only the public part can be compared there."""
    ran = {c.name for c in claim.checks if c.outcome != "deferred"}
    if len(ran) == len(claim.checks):
        return regrade.score
    return sum(c.score for c in regrade.checks if c.name in ran)


def package_submission(
    course: Course, submission: str | None = None, *, output: Path, device: str = "cpu"
) -> tuple[Path, GradeResult]:
    """Grade every exercise of `submission` and write the package to `output` (atomically)."""
    from dlgrade.core.atomic import writable_place
    from dlgrade.intake.submission import open_submission

    writable_place(output)  # before the grading, not after it

    with open_submission(course, submission) as sub:
        box = course_sandbox(course)
        from dlgrade.engine.runner import EngineError, grade

        result = grade(course, sub.folder, (), label=sub.label, sandbox=box, device=device)
        if result.internal_errors:  # a package must claim a complete grade
            raise EngineError(f"no package written: {result.internal_errors[0]}")
        if submission is None:  # the student's own exercises/: the hint tiers they opened
            from dlgrade.loop.state import with_hints_opened

            result = with_hints_opened(course, result)
        return write_package(course, sub.folder, result, output), result


def verify_package(
    course: Course, package: Path, *, device: str = "cpu", workdir: Path | None = None
) -> Verification:
    """Regrade a package's modules in a private folder and compare with what it claims."""
    from dlgrade.intake import archive

    if not package.exists():
        raise SubmissionError(f"package {str(package)!r} does not exist")
    if not archive.is_zip(package):
        raise archive.ArchiveError(f"{package.name} is not a zip archive")
    box = course_sandbox(course)
    with archive.private_folder(workdir) as folder:
        archive.extract_zip(package, folder)
        manifest = read_manifest(folder)
        problems = integrity_problems(folder, manifest)
        claimed, why = read_claim(folder)
        problems += [why] if why else []
        known = {e.id for e in course.exercises}
        if claimed is not None:
            problems += [
                f"{RESULT}: claims exercise {e.id!r}, not in this course"
                for e in claimed.exercises
                if e.id not in known
            ]
        from dlgrade.engine.runner import grade

        regrade = grade(course, folder / MODULES, (), label=package.name, sandbox=box, device=device)
    return Verification(regrade, compare(claimed, regrade), tuple(problems), manifest)
