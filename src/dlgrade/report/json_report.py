"""The result JSON of the contract (../shared/EXERCISES.md), with a schema_version; and reading it back."""

from __future__ import annotations

import json
from pathlib import Path

from dlgrade.core.result import GradeResult


class ResultFileError(ValueError):
    """A file that should hold a result JSON does not; the message is one line."""


def render_json(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"


def read_result(path: Path) -> GradeResult:
    """A result saved with `--format json --output FILE`."""
    try:
        return GradeResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ResultFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ResultFileError(f"{path}: not a dlgrade result JSON ({type(exc).__name__}: {exc})") from None


def read_saved(path: Path, key: str | None = None) -> GradeResult:
    """A saved result, or with `key` the result of one submission in a batch gradebook."""
    from dlgrade.batch.feedback import find_row
    from dlgrade.batch.gradebook import GRADEBOOK_FORMAT, GradebookError, read_gradebook

    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return read_result(path)  # says why, in its words
    is_book = isinstance(head, dict) and head.get("format") == GRADEBOOK_FORMAT
    if not is_book:
        if key is not None:
            raise ResultFileError(f"{path}: --id picks a submission of a batch gradebook; this is one result")
        return read_result(path)
    if key is None:
        raise ResultFileError(f"{path} is a batch gradebook: name a submission with --id ID")
    try:
        row = find_row(read_gradebook(path), key)
    except GradebookError as exc:
        raise ResultFileError(str(exc)) from None
    if row.result is None or row.status != "graded":
        raise ResultFileError(f"submission {row.id!r} was not graded ({row.status}: {row.reason})")
    return row.result
