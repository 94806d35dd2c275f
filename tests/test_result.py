"""The result model and the reports built from it."""

from __future__ import annotations

import json

from dlgrade.core.result import CheckResult, ExerciseResult, GradeResult, exercise_status
from dlgrade.report import FORMATS
from dlgrade.report.table import render_table


def check(name: str, passed: bool, outcome: str = "passed", hidden: bool = False, score: float = 1.0):
    return CheckResult(
        name=name,
        visibility="hidden" if hidden else "public",
        passed=passed,
        score=score if passed else 0.0,
        max_score=score,
        message="" if passed else "bad",
        outcome=outcome,
        hint="" if passed else "try this",
    )


def sample() -> GradeResult:
    good = ExerciseResult("a", "t", "passed", 2.0, 2.0, (check("x", True), check("y", True, hidden=True)))
    bad = ExerciseResult(
        "b",
        "t",
        "partial",
        1.0,
        3.0,
        (
            check("x", True),
            check("large logits stay finite", False, "failed"),
            check("h", False, "failed", hidden=True),
        ),
        hint="shift by the max",
    )
    return GradeResult((good, bad), submission="sub", course="C")


def test_round_trip_through_dict() -> None:
    r = sample()
    assert GradeResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_totals_and_hidden_summary() -> None:
    r = sample()
    assert (r.score, r.max_score) == (3.0, 5.0)
    assert r.hidden_summary() == {"count": 2, "failed": 1, "points": 2.0}
    assert r.counts()["partial"] == 1


def test_statuses_follow_the_contract() -> None:
    assert exercise_status((check("x", False, "not_started"),), 0, 1) == "not_started"
    assert exercise_status((check("x", False, "forbidden"),), 0, 1) == "error"
    assert exercise_status((check("x", False, "timeout"), check("y", True)), 1, 2) == "error"
    assert exercise_status((check("x", False, "raised"),), 0, 1) == "error"
    assert exercise_status((check("x", False, "failed"),), 0, 1) == "failed"
    assert exercise_status((check("x", False, "failed"), check("y", True)), 1, 2) == "partial"
    assert exercise_status((check("x", True),), 1, 1) == "passed"


def test_table_has_one_line_per_failed_public_check_with_its_hint() -> None:
    text = render_table(sample())
    lines = text.splitlines()
    failed = [line for line in lines if "large logits stay finite" in line]
    assert len(failed) == 1 and "bad" in failed[0] and "Hint: try this" in failed[0]
    assert any("hidden check" in line and "“h”" in line for line in lines)
    assert "Total 3/5 (60%)" in text
    assert "2 of 5 checks (2 points) are hidden" in text


def test_json_format_is_strict_json() -> None:
    doc = json.loads(FORMATS["json"](sample()))
    assert doc["schema_version"] == 1 and doc["score"] == 3.0
