"""The one sentence every reporter says about hidden checks, worded for the situation it is in."""

from __future__ import annotations

from dlgrade.core.result import GradeResult, points_text


def hidden_note(result: GradeResult) -> str:
    """'' without hidden checks; else how many there are, and whether they cost points.

    "Passing every public check is not full marks" is said only where it is true of this result:
    every public check passed and a hidden one failed.
    """
    hidden = result.hidden_summary()
    if not hidden["count"]:
        return ""
    total = sum(len(e.checks) for e in result.exercises)
    worth = points_text(hidden["points"])
    head = f"{hidden['count']:g} of {total} checks ({worth} points) are hidden and counted above"
    if not hidden["failed"]:
        return f"{head}; all passed."
    public_failed = any(not c.passed for e in result.exercises for c in e.checks if c.visibility == "public")
    tail = "" if public_failed else ": passing every public check is not full marks"
    return f"{head}; {hidden['failed']:g} of them failed{tail}."
