"""Known mistakes as course data: their header lines (core.mistakes, `grade dev check`) and the
diagnosis' refusals (engine.diagnosis): names that the failing cases cannot tell apart, a spent
budget, a course without mistakes. The names that are said are proven by every known-wrong
file's own test (tests.support.assert_loses_only_where_due) and the class of
tests/test_insight_mistakes.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlgrade.core import mistakes
from dlgrade.core.manifest import load_course
from dlgrade.dev.check import static_problems
from dlgrade.engine import diagnosis
from dlgrade.engine.runner import run_checks
from dlgrade.engine.session import open_session
from tests.courses import course_copy
from tests.support import grade_folder, variant, variants, with_appended

HEAD = '"""doc."""\n# loses: stable_softmax\n# caught by: stable_softmax: large logits stay finite\n'


def _course(tmp_path: Path) -> Path:
    (tmp_path / "course").mkdir()
    return course_copy(tmp_path / "course")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("# mistake: a name\n", "go together"),
        ("# teaches: a sentence\n", "go together"),
        ("# mistake: a\n# mistake: b\n# teaches: c\n", "more than one"),
        ("# mistake:\n# teaches: words\n", "needs a space and words"),
        (f"# mistake: {'x' * 91}\n# teaches: words\n", "over 90 characters"),
    ],
)
def test_malformed_naming_lines_are_problems(extra: str, problem: str) -> None:
    found = mistakes.header_problems(HEAD + extra)
    assert len(found) == 1 and problem in found[0], found
    assert mistakes.header_problems(HEAD + "# mistake: a name\n# teaches: a sentence\n") == []


def test_the_value_mistakes_of_the_course_are_named() -> None:
    named = [v for v in variants() if v.mistake]
    assert len(named) >= 40  # every topic's value mistakes but the random and trained ones
    assert all(v.teaches and len(v.mistake) <= mistakes.NAME_CHARS for v in named)


def test_dev_check_reports_a_bad_header_and_an_unknown_exercise(tmp_path: Path) -> None:
    root = _course(tmp_path)
    (root / "mistakes" / "stability" / "bad_head.py").write_text(HEAD + "# mistake: only a name\n")
    (root / "mistakes" / "stability" / "nowhere.py").write_text(
        HEAD.replace("loses: stable", "loses: unstable")
    )
    found = [str(p) for p in static_problems(load_course(root))]
    assert any(p.startswith("mistakes/stability/bad_head.py: ") and "go together" in p for p in found)
    assert any(p.startswith("mistakes/stability/nowhere.py: loses 'unstable_softmax'") for p in found)


def _class(tmp_path: Path, stem: str) -> tuple[Path, Path]:
    """A course copy, and a submission holding the known mistake `stem` of stability."""
    root = _course(tmp_path)
    folder = with_appended(load_course(root), "stability", variant("stability", stem).path, tmp_path / "sub")
    return root, folder


def test_two_names_that_the_failing_cases_cannot_tell_apart_say_nothing(tmp_path: Path) -> None:
    root, folder = _class(tmp_path, "naive_softmax")
    twin = root / "mistakes" / "stability" / "naive_softmax_twin.py"
    text = variant("stability", "naive_softmax").path.read_text()
    twin.write_text(text.replace("# mistake: ", "# mistake: another name for "))
    course = load_course(root)
    result = grade_folder(course, folder, "stable_softmax")
    assert result.exercises[0].status != "passed" and result.exercises[0].mistake is None
    twin.unlink()  # alone, it is named
    assert grade_folder(course, folder, "stable_softmax").exercises[0].mistake is not None


def test_a_spent_budget_or_no_mistakes_folder_says_nothing(tmp_path: Path) -> None:
    root, folder = _class(tmp_path, "naive_softmax")
    course = load_course(root)
    session = open_session(course, folder, course.select(["stable_softmax"]))
    try:
        run_checks(session)
    finally:
        session.close()
    logs = session.failures.failing("stable_softmax")
    assert logs  # the failing checks' calls were kept
    named = diagnosis.diagnose(course, "stable_softmax", logs, course.reference_dir())
    assert named is not None and named.path.stem == "naive_softmax"
    assert diagnosis.diagnose(course, "stable_softmax", logs, course.reference_dir(), budget_s=-1) is None
    assert diagnosis.diagnose(course, "stable_softmax", logs, None) is None  # no model solutions here
    shutil.rmtree(root / "mistakes")
    assert diagnosis.diagnose(course, "stable_softmax", logs, course.reference_dir()) is None


def test_every_format_says_the_mistake_of_a_failed_exercise_and_a_passed_one_none() -> None:
    from dataclasses import replace

    from dlgrade.core.result import CheckResult, ExerciseResult, GradeResult
    from dlgrade.report import FORMATS

    check = CheckResult("large logits stay finite", "public", False, 0.0, 2.0, "got nan", "failed")
    named = {"name": "softmax without subtracting the max", "teaches": "subtract the max first"}
    failed = ExerciseResult("stable_softmax", "stability", "failed", 0.0, 2.0, (check,), mistake=named)
    result = GradeResult((failed,), course="c")
    assert GradeResult.from_dict(result.to_dict()) == result  # JSON and back, the gradebook's way
    for name, render in FORMATS.items():
        text = render(result).replace("\\", "")
        assert "softmax without subtracting the max" in text and "subtract the max first" in text, name
    ok = replace(check, passed=True, outcome="passed", score=2.0)
    passed = replace(failed, status="passed", score=2.0, checks=(ok,))  # the field left set: not shown
    for name, render in FORMATS.items():
        if name != "json":  # the result's own data, said as it is
            assert "softmax without subtracting the max" not in render(GradeResult((passed,))), name
    assert "mistake" not in ExerciseResult.from_dict({**passed.to_dict(), "mistake": None}).to_dict()
