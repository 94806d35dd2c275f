"""Gradescope's autograder `results.json`: the total score and one test per check.

Only fields of Gradescope's documented format are written (score, execution_time, output,
output formats, visibility, extra_data, tests[name, number, score, max_score, status, output,
tags, visibility]). Hidden checks become tests visible after the due date whose output is the
hidden-safe message; the course maximum lives in extra_data (the format has no top-level field).

`gradescope-hidden` keeps hidden checks' results out of what a student sees before the due
date: no top-level `score` (Gradescope then totals the tests, each shown by its own
visibility) and a summary of the public checks only.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from dlgrade.core import printable
from dlgrade.core.result import (
    CHECK_DECIMALS,
    CheckResult,
    ExerciseResult,
    GradeResult,
    points_sum,
    points_text,
    score_text,
)

# Hidden checks: name and points are known up front; the result shows after the due date.
HIDDEN_VISIBILITY = "after_due_date"


def _test(number: str, e: ExerciseResult, c: CheckResult) -> dict[str, Any]:
    lines = [f"{e.id} ({e.topic}): {c.name}"]
    if not c.passed:
        lines.append(c.message or e.message or c.outcome.replace("_", " "))
        if c.hint and c.visibility == "public":
            lines.append(f"Hint: {c.hint}")
        if e.mistake and c.outcome == "failed":  # a hidden check's test shows it after the due date
            lines.append(e.mistake_text())
    return {
        "name": f"{e.id}: {c.name}",
        "number": number,
        "score": c.score,
        "max_score": c.max_score,
        "status": "passed" if c.passed else "failed",
        "output": "\n".join(lines),
        "output_format": "text",
        "tags": [e.topic, e.id, c.visibility],
        "visibility": HIDDEN_VISIBILITY if c.visibility == "hidden" else "visible",
    }


def _summary(result: GradeResult) -> str:
    lines = [f"{result.course}: {score_text(result.score, result.max_score)} points ({result.percent:.0f}%)"]
    for e in result.exercises:
        line = f"  {e.id:<26} {e.status:<12} {score_text(e.score, e.max_score)}"
        if e.status in ("error", "not_started") and e.message:
            line += f"  {e.message}"
        lines.append(line)
    hidden = result.hidden_summary()
    if hidden["count"]:
        lines.append(
            f"{hidden['count']:g} checks ({points_text(hidden['points'])} points) are hidden; their results "
            "show after the due date and are counted in the score above."
        )
    return "\n".join(lines)


def _public_summary(result: GradeResult) -> str:
    """The summary without anything a hidden check decided."""
    public = [(e, [c for c in e.checks if c.visibility != "hidden"]) for e in result.exercises]
    got = points_sum(c.score for _, cs in public for c in cs)
    top = points_sum(c.max_score for _, cs in public for c in cs)
    lines = [f"{result.course}: public checks {score_text(got, top)} points"]
    for e, checks in public:
        score, most = points_sum(c.score for c in checks), points_sum(c.max_score for c in checks)
        lines.append(f"  {e.id:<26} public checks {score_text(score, most)}")
    hidden = result.hidden_summary()
    if hidden["count"]:
        lines.append(
            f"{hidden['count']:g} checks ({points_text(hidden['points'])} points) are hidden; their results, "
            "and your total, show after the due date."
        )
    return "\n".join(lines)


def _settle(mine: list[dict[str, Any]], e: ExerciseResult) -> None:
    """Move an exercise's rounding remainders (checks' points are rounded to 4 places, its score
    to 2) onto its tests, so that Gradescope's sum of the tests is the exercise's score and
    points exactly: the points' remainder onto the last test, the score's onto the last test
    that can take it within 0 and its points."""
    last = mine[-1]
    last["max_score"] = _to_check_decimals(
        last["max_score"] + e.max_score - sum(t["max_score"] for t in mine)
    )
    last["score"] = min(last["score"], last["max_score"])
    rest = e.score - sum(t["score"] for t in mine)
    fits = [t for t in mine if -1e-9 <= t["score"] + rest <= t["max_score"] + 1e-9]
    test = fits[-1] if fits else last
    test["score"] = min(test["max_score"], max(0.0, _to_check_decimals(test["score"] + rest)))


def _to_check_decimals(x: float) -> float:
    return float(round(Fraction(repr(x)), CHECK_DECIMALS))


def gradescope_document(result: GradeResult, *, hidden_until_due: bool = False) -> dict[str, Any]:
    tests = []
    for i, e in enumerate(result.exercises, start=1):
        mine = [_test(f"{i}.{j}", e, c) for j, c in enumerate(e.checks, start=1)]
        if hidden_until_due and mine:  # Gradescope will total the tests: make them add up exactly
            _settle(mine, e)
        tests += mine
    extra: dict[str, Any] = {
        "max_score": result.max_score,
        "dlgrade_version": result.version,
        "statuses": {e.id: e.status for e in result.exercises},
    }
    doc: dict[str, Any] = {
        "score": result.score,
        "execution_time": round(result.duration_s, 3),
        "output": _public_summary(result) if hidden_until_due else _summary(result),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }
    if hidden_until_due:
        del doc["score"]  # Gradescope totals the tests; hidden ones show after the due date
        del extra["statuses"]  # an exercise's status says how its hidden checks went
    doc["output"] = printable.lines(doc["output"])  # what Gradescope shows: control characters visible
    for test in tests:
        test["name"], test["output"] = printable.lines(test["name"]), printable.lines(test["output"])
    return doc


def render_gradescope(result: GradeResult) -> str:
    return json.dumps(gradescope_document(result), indent=2, allow_nan=False) + "\n"


def render_gradescope_hidden(result: GradeResult) -> str:
    return json.dumps(gradescope_document(result, hidden_until_due=True), indent=2, allow_nan=False) + "\n"
