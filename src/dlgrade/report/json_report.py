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
