"""Gradescope's autograder `results.json`: the total score and one test per check.

Only fields of Gradescope's documented format are written (score, execution_time, output,
output formats, visibility, extra_data, tests[name, number, score, max_score, status, output,
tags, visibility]). Hidden checks become tests visible after the due date whose output is the
hidden-safe message; the course maximum lives in extra_data (the format has no top-level field).
"""

from __future__ import annotations

import json
from typing import Any

from dlgrade.result import CheckResult, ExerciseResult, GradeResult

# Hidden checks: name and points are known up front; the result shows after the due date.
HIDDEN_VISIBILITY = "after_due_date"


def _test(number: str, e: ExerciseResult, c: CheckResult) -> dict[str, Any]:
    lines = [f"{e.id} ({e.topic}): {c.name}"]
    if not c.passed:
        lines.append(c.message or e.message or c.outcome.replace("_", " "))
        if c.hint and c.visibility == "public":
            lines.append(f"Hint: {c.hint}")
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
    lines = [f"{result.course}: {result.score:g}/{result.max_score:g} points ({result.percent:.0f}%)"]
    for e in result.exercises:
        line = f"  {e.id:<26} {e.status:<12} {e.score:g}/{e.max_score:g}"
        if e.status in ("error", "not_started") and e.message:
            line += f"  {e.message}"
        lines.append(line)
    hidden = result.hidden_summary()
    if hidden["count"]:
        lines.append(
            f"{hidden['count']:g} checks ({hidden['points']:g} points) are hidden; their results "
            "show after the due date and are counted in the score above."
        )
    return "\n".join(lines)


def gradescope_document(result: GradeResult) -> dict[str, Any]:
    tests = []
    for i, e in enumerate(result.exercises, start=1):
        for j, c in enumerate(e.checks, start=1):
            tests.append(_test(f"{i}.{j}", e, c))
    return {
        "score": result.score,
        "execution_time": round(result.duration_s, 3),
        "output": _summary(result),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "max_score": result.max_score,
            "dlgrade_version": result.version,
            "statuses": {e.id: e.status for e in result.exercises},
        },
        "tests": tests,
    }


def render_gradescope(result: GradeResult) -> str:
    return json.dumps(gradescope_document(result), indent=2, allow_nan=False) + "\n"
