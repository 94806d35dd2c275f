"""Batch grading: find the submissions in a folder, slice them into shards, grade each one.

Every entry of the folder (zips, folders, stray files; hidden names skipped) is one
submission, and each gets one Row whatever happens: `graded` (a result, whatever the score),
`rejected` (the input is unsafe or unusable: a bad archive, no exercise modules) or `error`
(grading itself failed: an engine error, the grading process died or overran its time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.intake.errors import SubmissionError
from dlgrade.intake.submission import find_modules
from dlgrade.sandbox.pool import Sandbox

RowStatus = Literal["graded", "rejected", "error"]
ROW_STATUSES: tuple[RowStatus, ...] = ("graded", "rejected", "error")


class BatchError(ValueError):
    """The batch cannot start (no such folder, a bad --shard); the message is one line."""


@dataclass(frozen=True)
class Entry:
    id: str
    path: str


@dataclass(frozen=True)
class Row:
    id: str
    status: RowStatus
    reason: str = ""
    result: GradeResult | None = None
    digest: str = ""  # regrade.entry_digest of what was graded ("" in gradebooks older than it)
    # hidden checks' full messages, {exercise: {check: message}}: the instructor's, shown to the
    # student only after the due date (grade batch --reveal-hidden, docs/deadlines.md)
    revealed: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "digest": self.digest,
            "result": None if self.result is None else self.result.to_dict(),
            **({"revealed": self.revealed} if self.revealed else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Row:
        if d.get("status") not in ROW_STATUSES:
            raise ValueError(f"row status {d.get('status')!r} is not one of {ROW_STATUSES}")
        result = d.get("result")
        return cls(
            id=str(d["id"]),
            status=d["status"],
            reason=str(d.get("reason", "")),
            digest=str(d.get("digest", "")),
            result=None if result is None else GradeResult.from_dict(result),
            revealed=_revealed(d.get("revealed")),
        )


def _revealed(d: object) -> dict[str, dict[str, str]]:
    """A row's hidden-check messages, checked to be {str: {str: str}}."""
    if d is None:
        return {}
    if not isinstance(d, dict) or not all(isinstance(v, dict) for v in d.values()):
        raise ValueError("a row's revealed messages are not {exercise: {check: message}}")
    return {str(k): {str(n): str(m) for n, m in v.items()} for k, v in d.items()}


def require_folder(folder: Path) -> None:
    """BatchError unless `folder` is a folder (the submissions of a batch)."""
    if not folder.is_dir():
        raise BatchError(f"submissions folder {str(folder)!r} does not exist or is not a folder")


def discover(folder: Path, ignore: tuple[Path, ...] = ()) -> list[Entry]:
    """Every submission in `folder`, sorted by id (a zip's id is its name without `.zip`).

    Hidden names and the paths in `ignore` (the gradebook being written, when it lies there)
    are skipped.
    """
    require_folder(folder)
    skip = {p.resolve() for p in ignore}
    paths = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.resolve() not in skip)
    stems = [p.name[:-4] if p.name.lower().endswith(".zip") else p.name for p in paths]
    entries = [
        Entry(stem if stems.count(stem) == 1 else p.name, str(p))
        for p, stem in zip(paths, stems, strict=True)
    ]
    return sorted(entries, key=lambda e: e.id)


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' (1 <= I <= N) -> (I, N)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise BatchError(f"--shard {text!r} is not I/N (e.g. 2/8)") from None
    if not 1 <= index <= count:
        raise BatchError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


SHARD_COUNT_VARIABLE = "DLGRADE_SHARD_COUNT"  # Kubernetes gives the index, not the count


def shard_from_env(env: Mapping[str, str]) -> tuple[tuple[int, int], str] | None:
    """The shard an array job runner assigned, and where it came from; None outside one.

    Slurm: SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN (default 1) of
    SLURM_ARRAY_TASK_COUNT tasks. Kubernetes indexed Job: JOB_COMPLETION_INDEX (from 0) of
    DLGRADE_SHARD_COUNT (set it to the Job's `completions`).
    """
    try:
        if "SLURM_ARRAY_TASK_ID" in env:
            first = int(env.get("SLURM_ARRAY_TASK_MIN", "1"))
            index, count = int(env["SLURM_ARRAY_TASK_ID"]) - first + 1, int(env["SLURM_ARRAY_TASK_COUNT"])
            source = "SLURM_ARRAY_TASK_ID"
        elif "JOB_COMPLETION_INDEX" in env:
            index, count = int(env["JOB_COMPLETION_INDEX"]) + 1, int(env[SHARD_COUNT_VARIABLE])
            source = "JOB_COMPLETION_INDEX"
        else:
            return None
    except KeyError as exc:
        raise BatchError(f"an array job sets the task index but not {exc.args[0]}") from None
    except ValueError:
        raise BatchError("the array job's task variables are not whole numbers") from None
    if not 1 <= index <= count:
        raise BatchError(f"{source} gives shard {index}/{count}: a step in the array? use 1..N or --shard")
    return (index, count), source


def shard(entries: list[Entry], index: int, count: int) -> list[Entry]:
    """The index-th of count deterministic slices: every count-th submission in id order."""
    return sorted(entries, key=lambda e: e.id)[index - 1 :: count]


def universe_digest(entries: list[Entry]) -> str:
    """What all shards of one batch must agree on: the sorted ids of every submission."""
    return hashlib.sha256("\n".join(sorted(e.id for e in entries)).encode("utf-8")).hexdigest()


def default_timeout(course: Course, names: tuple[str, ...]) -> float:
    """A wall-clock cap per submission: generous next to the exercises' own per-call limits."""
    return 60.0 + 4.0 * sum(e.time_limit for e in course.select(list(names)))


def grade_entry(
    course: Course,
    entry: Entry,
    names: tuple[str, ...],
    *,
    sandbox: Sandbox,
    workdir: Path,
    device: str = "cpu",
) -> Row:
    """Unpack or copy one submission into a private folder under `workdir` and grade it there."""
    from dlgrade.engine.runner import EngineError, grade
    from dlgrade.intake import archive

    path = Path(entry.path)
    try:
        with archive.private_folder(workdir) as folder:
            if path.is_symlink():
                raise archive.ArchiveError(f"{path.name} is a symlink")
            if path.is_dir():
                archive.copy_modules(find_modules(course, path, entry.id), folder)
                modules = folder
            elif archive.is_zip(path):
                archive.extract_zip(path, folder)
                modules = find_modules(course, folder, entry.id)
            else:
                raise archive.ArchiveError(f"{path.name} is not a zip archive or a folder")
            revealed: dict[str, dict[str, str]] = {}
            result = grade(
                course, modules, names, label=entry.id, sandbox=sandbox, device=device, revealed=revealed
            )
    except SubmissionError as exc:
        return Row(entry.id, "rejected", str(exc))
    except EngineError as exc:
        return Row(entry.id, "error", f"engine failure: {exc}")
    if result.internal_errors:
        return Row(entry.id, "error", f"grader error: {result.internal_errors[0]}", result)
    return Row(entry.id, "graded", "", result, revealed=revealed)
