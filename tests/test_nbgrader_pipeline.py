"""The real nbgrader pipeline gives every student the points `grade` gives the same code.

`grade nbgrader` writes the course; `nbgrader generate_assignment` releases it; submissions
(model solutions, untouched stubs, known-wrong files, cells that loop) go in submitted/;
`nbgrader autograde`, `generate_feedback` and `export` grade them. Per student and per
exercise, the gradebook must hold exactly what `dlgrade.runner.grade` gives the code of the
submitted notebook (`dlgrade.notebook_code`), and each check cell must print `grade`'s lines.

Only topic `stability` goes through nbgrader here: every student costs a kernel and a
grading process, and the point is the pipeline, not the topics (tests/test_nbgrader_course.py
checks every topic's notebooks without nbgrader's executor).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.manifest import Course
from dlgrade.notebook_code import module_source, notebook_cells
from dlgrade.report.table import exercise_lines, render_lines
from dlgrade.result import GradeResult
from tests.nbgrader_support import (
    exported_totals,
    filled,
    gradebook_points,
    model_answers,
    nbgrader,
    read_notebook,
    submit,
    with_variant,
)
from tests.support import FIXTURES, ROOT, grade_folder

pytestmark = pytest.mark.slow

TOPIC = "stability"
WRONG = ("naive_softmax", "forbidden_builtin", "log_of_softmax")  # partial, forbidden, partial
CELL_TIMEOUT = 30  # a looping cell costs this much; the slowest other cell takes ~5 s
LOOP_AT_TOP_LEVEL = "\n\nwhile True:  # never ends: nbgrader's cell timeout cuts it\n    pass\n"
LOOP_WHEN_CALLED = "def log_softmax(x, dim=-1):\n    while True:\n        pass\n"


@pytest.fixture(scope="module")
def autograded(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An nbgrader course with every submission autograded and the grades exported."""
    where = tmp_path_factory.mktemp("nbgrader") / "course"
    subprocess.run(
        [
            Path(sys.executable).with_name("grade"),
            "nbgrader",
            str(where),
            TOPIC,
            "--cell-timeout",
            str(CELL_TIMEOUT),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    nbgrader(where, "generate_assignment", TOPIC)
    release = read_notebook(where / "release" / TOPIC / f"{TOPIC}.ipynb")
    answers = model_answers(read_notebook(where / "source" / TOPIC / f"{TOPIC}.ipynb"))
    submissions = {
        "reference": filled(release, answers),
        "stubs": release,
        "looping": filled(
            release,
            {
                **answers,
                "stable_softmax": answers["stable_softmax"] + LOOP_AT_TOP_LEVEL,
                "log_softmax": LOOP_WHEN_CALLED,
            },
        ),
    }
    for name in WRONG:
        submissions[name] = filled(release, with_variant(answers, FIXTURES / "wrong" / TOPIC / f"{name}.py"))
    for student, notebook in submissions.items():
        submit(where, student, TOPIC, TOPIC, notebook)
    nbgrader(where, "autograde", TOPIC)
    nbgrader(where, "generate_feedback", TOPIC, "--student", "naive_softmax")
    nbgrader(where, "export")
    return where


def students(where: Path) -> list[str]:
    return sorted(p.name for p in (where / "submitted").iterdir())


@pytest.fixture(scope="module")
def graded(
    course: Course, autograded: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, GradeResult]:
    """`grade` on the code of each student's submitted notebook."""
    out = {}
    for student in students(autograded):
        cells = notebook_cells(autograded / "submitted" / student / TOPIC / f"{TOPIC}.ipynb")
        folder = tmp_path_factory.mktemp(student)
        (folder / f"{course.topic(TOPIC).module}.py").write_text(module_source(cells))
        out[student] = grade_folder(course, folder, TOPIC)
    return out


def test_gradebook_equals_grade_for_every_student(autograded: Path, graded: dict[str, GradeResult]) -> None:
    totals = exported_totals(autograded / "grades.csv")
    assert sorted(s for (_, s) in totals) == sorted(graded)
    for student, result in graded.items():
        assert result.internal_errors == ()
        points = gradebook_points(autograded, TOPIC, TOPIC, student)
        assert points == {f"{e.id}_checks": e.score for e in result.exercises}, student
        score, max_score = totals[(TOPIC, student)]
        assert (round(score, 4), max_score) == (result.score, result.max_score), student


def test_the_submissions_span_full_partial_and_no_marks(course: Course, autograded: Path) -> None:
    """The comparison above is not vacuous: the students' totals differ as their code does."""
    totals = {s: score for (_, s), (score, _) in exported_totals(autograded / "grades.csv").items()}
    full = course.topic(TOPIC).points
    assert totals["reference"] == full
    assert totals["stubs"] == 0
    assert all(0 < totals[name] < full for name in WRONG)
    points = gradebook_points(autograded, TOPIC, TOPIC, "looping")
    # The top-level loop was cut by the cell timeout and is not graded code; the function
    # that loops when called is cut by the sandbox: that exercise alone loses its points.
    assert points == {
        "logsumexp_checks": 5.0,
        "stable_softmax_checks": 5.0,
        "log_softmax_checks": 0.0,
        "clip_grad_norm_checks": 5.0,
    }
    looping = read_notebook(autograded / "autograded" / "looping" / TOPIC / f"{TOPIC}.ipynb")
    cut = next(c for c in looping.cells if c.get("id") == "stable_softmax")
    assert "CellTimeoutError" in [o.get("ename") for o in cut.outputs if o.output_type == "error"]


def test_check_cells_print_the_lines_grade_prints(autograded: Path, graded: dict[str, GradeResult]) -> None:
    for student, result in graded.items():
        notebook = read_notebook(autograded / "autograded" / student / TOPIC / f"{TOPIC}.ipynb")
        cells = {c.get("id"): c for c in notebook.cells}
        for e in result.exercises:
            printed = "".join(o.text for o in cells[f"{e.id}_checks"].outputs if o.output_type == "stream")
            assert all(o.get("name") != "stderr" for o in cells[f"{e.id}_checks"].outputs)
            expected = render_lines(exercise_lines(e, len(e.id)))
            assert printed.strip() == expected.strip(), (student, e.id)


def test_feedback_shows_hidden_checks_without_inputs(course: Course, autograded: Path) -> None:
    """nbgrader's feedback shows hidden test source and output: one keyword, property names."""
    released = (autograded / "release" / TOPIC / f"{TOPIC}.ipynb").read_text()
    assert "hidden_checks" not in released
    page = (autograded / "feedback" / "naive_softmax" / TOPIC / f"{TOPIC}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    regions = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, re.DOTALL)
    assert [r.strip() for r in regions] == ["hidden_checks=True,"] * len(course.topic(TOPIC).exercises)
    lines = [line for line in text.splitlines() if "✗ hidden check" in line]
    assert lines  # naive softmax fails hidden checks too
    for line in lines:
        assert not re.search(r"\[|shape|dim=|float\d\d|tensor|\d\.\d", line), line
