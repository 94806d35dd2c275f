"""CI formats: JUnit XML read back by a real XML parser, Gradescope's documented fields, Markdown."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.result import CheckResult, GradeResult
from dlgrade.report import FORMATS
from dlgrade.report.gradescope import gradescope_document
from tests.formats import gradescope_problems, junit_problems
from tests.support import grade_folder, hostiles, variant, with_appended


@pytest.fixture(scope="module")
def wrong_result(course: Course, tmp_path_factory) -> GradeResult:
    """A real result with passes, wrong answers, hidden failures and a crash."""
    naive = variant("stability", "naive_softmax")
    crash = next(h for h in hostiles() if h.id == "os_exit_in_call")
    folder = with_appended(course, naive.module, naive.path, tmp_path_factory.mktemp("wrong"))
    module = folder / "stability.py"
    module.write_text(module.read_text() + "\n" + crash.path.read_text())
    result = grade_folder(course, folder, "stability")
    assert [e.status for e in result.exercises] == ["passed", "partial", "error", "passed"]
    return result


def test_junit_is_valid_and_has_one_testcase_per_check(wrong_result: GradeResult) -> None:
    text = FORMATS["junit"](wrong_result)
    assert junit_problems(text) == []
    root = ET.fromstring(text.encode("utf-8"))
    cases = root.findall("./testsuite/testcase")
    checks = [(e, c) for e in wrong_result.exercises for c in e.checks]
    assert [(case.get("classname"), case.get("name")) for case in cases] == [
        (f"{e.topic}.{e.id}", c.name) for e, c in checks
    ]
    for case, (_e, c) in zip(cases, checks, strict=True):
        verdict = case.find("failure") if case.find("failure") is not None else case.find("error")
        assert (verdict is None) == c.passed, c.name
        assert case.find("skipped") is None
        if verdict is not None and c.visibility == "public":
            assert verdict.get("message") == c.message
    assert int(root.get("failures")) > 0 and int(root.get("errors")) > 0


def test_junit_withholds_hidden_messages(wrong_result: GradeResult) -> None:
    text = FORMATS["junit"](wrong_result)
    public = " ".join(c.message for e in wrong_result.exercises for c in e.checks if c.visibility == "public")
    secrets = {c.message for e in wrong_result.exercises for c in e.hidden_checks if not c.passed}
    secrets = {m for m in secrets if m not in public}
    assert secrets  # hidden messages of their own, e.g. which property the hidden inputs broke
    for message in secrets:
        assert message not in text
    root = ET.fromstring(text.encode("utf-8"))
    for case in root.iter("testcase"):
        out = case.findtext("system-out") or ""
        verdict = case.find("failure") if case.find("failure") is not None else case.find("error")
        if out.startswith("hidden") and verdict is not None:
            assert verdict.get("message") == "hidden check failed (details withheld)"
            assert not (verdict.text or "").strip()


def test_junit_survives_any_text_a_student_can_produce(wrong_result: GradeResult) -> None:
    nasty = "got \x00\x1b[31m <tag> & ]]> \ud800 \uffff"
    e = wrong_result.exercises[0]
    check = CheckResult(nasty, "public", False, 0.0, 1.0, message=nasty, outcome="raised", hint=nasty)
    result = replace(wrong_result, exercises=(replace(e, checks=(check,)),))
    text = FORMATS["junit"](result)
    assert junit_problems(text) == []
    error = ET.fromstring(text.encode("utf-8")).find("./testsuite/testcase/error")
    assert error is not None and "<tag> & ]]>" in error.get("message", "")


def test_junit_reports_checks_that_did_not_run_as_skipped(wrong_result: GradeResult) -> None:
    """A student bundle defers its hidden checks: JUnit readers must not count them as failed."""
    e = wrong_result.exercises[0]
    deferred = CheckResult("d", "hidden", False, 0.0, 1.0, message="run at grading time", outcome="deferred")
    result = replace(wrong_result, exercises=(replace(e, checks=(*e.checks, deferred)),))
    text = FORMATS["junit"](result)
    assert junit_problems(text) == []
    suite = ET.fromstring(text.encode("utf-8")).find("./testsuite")
    assert suite is not None and suite.get("skipped") == "1"
    case = suite.findall("testcase")[-1]
    assert case.find("failure") is None and case.find("error") is None
    assert case.find("skipped").get("message") == "run at grading time"


def test_gradescope_has_the_documented_fields(wrong_result: GradeResult) -> None:
    doc = json.loads(FORMATS["gradescope"](wrong_result))
    assert gradescope_problems(doc) == []
    checks = [(e, c) for e in wrong_result.exercises for c in e.checks]
    assert len(doc["tests"]) == len(checks)
    assert doc["score"] == wrong_result.score
    assert doc["extra_data"]["max_score"] == wrong_result.max_score
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(wrong_result.max_score, abs=1e-3)
    for test, (e, c) in zip(doc["tests"], checks, strict=True):
        assert test["name"] == f"{e.id}: {c.name}"
        assert (test["score"], test["max_score"]) == (c.score, c.max_score)
        assert test["status"] == ("passed" if c.passed else "failed")
        assert test["visibility"] == ("visible" if c.visibility == "public" else "after_due_date")
        if c.visibility == "hidden":
            assert "Hint" not in test["output"]


def test_gradescope_score_is_the_total_even_when_checks_round(course: Course) -> None:
    result = grade_folder(course, course.reference_dir(), "stability")
    doc = gradescope_document(result)
    assert doc["score"] == result.max_score == course.topic("stability").points
    assert all(t["status"] == "passed" for t in doc["tests"])


def test_markdown_ends_with_the_points_line(wrong_result: GradeResult) -> None:
    text = FORMATS["markdown"](wrong_result)
    lines = text.rstrip("\n").splitlines()
    assert lines[-1] == f"Points {wrong_result.score:g}/{wrong_result.max_score:g}"
    table = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(table) == len(wrong_result.exercises)
    for row, e in zip(table, wrong_result.exercises, strict=True):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[0].replace("\\", "") == e.id and cells[3] == f"{e.score:g}/{e.max_score:g}"
    failed = [c for e in wrong_result.exercises for c in e.checks if c.outcome == "failed"]
    assert any(c.name in text for c in failed if c.visibility == "public")


def test_markdown_escapes_student_text(wrong_result: GradeResult) -> None:
    e = wrong_result.exercises[0]
    check = CheckResult("c", "public", False, 0.0, 1.0, message="| <script> **x** [a](b)", outcome="failed")
    exercise = replace(e, status="partial", checks=(check,))
    text = FORMATS["markdown"](replace(wrong_result, exercises=(exercise,)))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert r"\| &lt;script&gt; \*\*x\*\* \[a\]\(b\)" in text


def test_the_hidden_note_says_not_full_marks_only_where_true(course, tmp_path) -> None:
    """All passed: no warning. Public all passed but a hidden one failed: the warning. Public failures
    too: just the count (every reporter says the same sentence)."""
    from dataclasses import replace

    from dlgrade.report.hidden_note import hidden_note
    from tests.support import grade_folder, reference_copy

    full = grade_folder(course, reference_copy(course, tmp_path), "stability")
    assert hidden_note(full).endswith("; all passed.")

    def failing(visibility: str):
        def exercise(e):
            checks = tuple(
                replace(c, passed=False, score=0.0) if c.visibility == visibility else c for c in e.checks
            )
            return replace(e, checks=checks)

        return replace(full, exercises=tuple(exercise(e) for e in full.exercises))

    assert "passing every public check is not full marks" in hidden_note(failing("hidden"))
    both = failing("public")
    both = replace(
        both,
        exercises=tuple(
            replace(e, checks=tuple(replace(c, passed=False) for c in e.checks)) for e in both.exercises
        ),
    )
    assert "not full marks" not in hidden_note(both) and "of them failed." in hidden_note(both)
    for render in (FORMATS["table"], FORMATS["markdown"], FORMATS["html"]):
        assert hidden_note(full) in render(full)
