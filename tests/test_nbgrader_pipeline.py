"""The real nbgrader pipeline gives every student the points `grade` gives the same code.

`grade nbgrader` writes the course; `nbgrader generate_assignment` releases it; submissions
(model solutions, untouched stubs, known-wrong files, cells that loop) go in submitted/;
`nbgrader autograde`, `generate_feedback` and `export` grade them. Per student and per
exercise, the gradebook must hold exactly what `dlgrade.engine.runner.grade` gives the code of the
submitted notebook (`dlgrade.intake.notebook_code`), and each check cell must print `grade`'s lines,
also for hostile notebooks whose own cells patch the check cells, print, stdout, IPython's
display hooks or nbgrader in the kernel, or write files (`dlgrade.nbgrader.autograde` grades
out of band and, unless the config asks for it, runs no student cell in a kernel).

Only topic `stability` goes through nbgrader here: every student costs a kernel and a
grading process, and the point is the pipeline, not the topics (tests/test_nbgrader_course.py
checks every topic's notebooks without nbgrader's executor).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import GradeResult
from dlgrade.engine.runner import grade
from dlgrade.intake.notebook_code import module_source, notebook_cells
from dlgrade.loop.grading import grade_submission
from dlgrade.notebook.cells import public_part
from dlgrade.report.table import exercise_lines, render_lines
from tests.nbgrader_support import (
    exported_totals,
    filled,
    gradebook_points,
    model_answers,
    nbgrader,
    nbgrader_run,
    read_notebook,
    submit,
    with_cell,
    with_variant,
)
from tests.shared import Shared
from tests.support import ROOT, grade_folder, variant, variants

pytestmark = pytest.mark.slow

TOPIC = "stability"
WRONG = tuple(v.path.stem for v in variants(TOPIC))  # every known-wrong file of the topic
CELL_TIMEOUT = 30  # a looping cell costs this much; the slowest other cell takes ~5 s
LOOP_AT_TOP_LEVEL = "\n\nwhile True:  # never ends: nbgrader's cell timeout cuts it\n    pass\n"
LOOP_WHEN_CALLED = "def log_softmax(x, dim=-1):\n    while True:\n        pass\n"
# Cells added to the untouched stubs, run in the kernel before any check cell. With points
# from the kernel (a config without dlgrade's autograde steps) each scored 5 of 5 per check
# cell when tried by hand: the first through the patched grade_cell, the second by leaving
# the check cells without output or error, which nbgrader scores as full points.
PATCH_CHECKS = """\
import dlgrade.notebook.cells as _nb
import nbgrader.utils as _nbu
_nb.grade_cell = lambda *a, **k: 5.0
_nbu.determine_grade = lambda cell, log=None: (5.0, 5.0)
"""
PATCH_OUTPUT = """\
import builtins, io, sys
builtins.print = lambda *a, **k: None
sys.stdout = io.StringIO()
sys.displayhook = lambda value: None
get_ipython().display_pub.publish = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
get_ipython().displayhook.write_output_prompt = lambda *a, **k: None
get_ipython().events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
"""
# A cell a kernel would run as the user running nbgrader: it writes beside the course.
WRITES_FILE = "import pathlib\npathlib.Path(r'{marker}').write_text('a student cell ran here')\n"
HOSTILE = {"patches_checks": PATCH_CHECKS, "patches_output": PATCH_OUTPUT, "writes_file": WRITES_FILE}
RUN_STUDENT_CELLS = "autograde_preprocessors(run_student_cells=True)"


def marker(where: Path) -> Path:
    return where.parent / "written-by-a-student-cell.txt"


def hostile_cells(where: Path) -> dict[str, str]:
    return {name: cell.replace("{marker}", str(marker(where))) for name, cell in HOSTILE.items()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`grade nbgrader` and `nbgrader generate_assignment`, once for this module: the course
    folder (its config's paths are relative to itself, so a copy at the same depth works) and
    the released notebook's solutions: grade id -> model answer."""
    where = tmp_path_factory.mktemp("nbgrader-generated") / "course"
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
    return where, model_answers(read_notebook(where / "source" / TOPIC / f"{TOPIC}.ipynb"))


def nbgrader_course(
    generated: tuple[Path, dict[str, str]], where: Path, *, run_student_cells: bool = False
) -> dict[str, str]:
    """A copy of the generated course in `where`; the model answers. `run_student_cells`
    edits the config as docs say."""
    source, answers = generated
    shutil.copytree(source, where)
    if run_student_cells:
        config = where / "nbgrader_config.py"
        text = config.read_text()
        assert "autograde_preprocessors()" in text
        config.write_text(text.replace("autograde_preprocessors()", RUN_STUDENT_CELLS))
    return answers


@pytest.fixture(scope="module")
def autograded(generated: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An nbgrader course with every submission autograded and the grades exported."""
    where = tmp_path_factory.mktemp("nbgrader") / "course"
    answers = nbgrader_course(generated, where)
    release = read_notebook(where / "release" / TOPIC / f"{TOPIC}.ipynb")
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
        submissions[name] = filled(release, with_variant(answers, variant(TOPIC, name).path))
    for name, cell in hostile_cells(where).items():
        submissions[name] = with_cell(release, cell, after="setup")
    for student, notebook in submissions.items():
        submit(where, student, TOPIC, TOPIC, notebook)
    nbgrader(where, "autograde", TOPIC)
    nbgrader(where, "generate_feedback", TOPIC, "--student", "naive_softmax")
    nbgrader(where, "export")
    for student in ("reference", "naive_softmax"):  # what a student's Validate button runs
        done = nbgrader_run(where, "validate", str(where / "submitted" / student / TOPIC / f"{TOPIC}.ipynb"))
        (where / f"validate-{student}.txt").write_text(done)
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
    # The top-level loop is not graded code (and no kernel runs it); the function that loops
    # when called is cut by the sandbox: that exercise alone loses its points.
    assert points == LOOPING_POINTS
    looping = read_notebook(autograded / "autograded" / "looping" / TOPIC / f"{TOPIC}.ipynb")
    loop = next(c for c in looping.cells if c.get("id") == "stable_softmax")
    assert loop.execution_count is None and loop.outputs == []


LOOPING_POINTS = {
    "logsumexp_checks": 5.0,
    "stable_softmax_checks": 5.0,
    "log_softmax_checks": 0.0,
    "clip_grad_norm_checks": 5.0,
}


def added_cell(where: Path, student: str, cell: str) -> Any:
    notebook = read_notebook(where / "autograded" / student / TOPIC / f"{TOPIC}.ipynb")
    return next(c for c in notebook.cells if c.source in (cell, cell.rstrip("\n")))


def test_hostile_notebooks_get_what_their_code_gets(autograded: Path, graded: dict[str, GradeResult]) -> None:
    """Stubs plus a cell that patches the check cells or the kernel's output, or writes a file:
    0 points, as `grade` gives their code; no student cell ran outside the sandbox."""
    totals = {s: score for (_, s), (score, _) in exported_totals(autograded / "grades.csv").items()}
    for student, cell in hostile_cells(autograded).items():
        assert totals[student] == graded[student].score == 0, student
        added = added_cell(autograded, student, cell)
        assert added.execution_count is None and added.outputs == [], student
    assert not marker(autograded).exists()


def test_cells_run_in_a_kernel_only_where_the_config_asks(
    generated: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`autograde_preprocessors(run_student_cells=True)`: nbgrader's Execute runs the student's
    cells (unconfined: the file gets written) and cuts a looping one; the points stay dlgrade's."""
    where = tmp_path_factory.mktemp("nbgrader-run-cells") / "course"
    answers = nbgrader_course(generated, where, run_student_cells=True)
    release = read_notebook(where / "release" / TOPIC / f"{TOPIC}.ipynb")
    loops = {
        **answers,
        "stable_softmax": answers["stable_softmax"] + LOOP_AT_TOP_LEVEL,
        "log_softmax": LOOP_WHEN_CALLED,
    }
    cells = hostile_cells(where)
    submit(where, "looping", TOPIC, TOPIC, filled(release, loops))
    for name in ("patches_checks", "writes_file"):
        submit(where, name, TOPIC, TOPIC, with_cell(release, cells[name], after="setup"))
    nbgrader(where, "autograde", TOPIC)
    assert gradebook_points(where, TOPIC, TOPIC, "looping") == LOOPING_POINTS
    looping = read_notebook(where / "autograded" / "looping" / TOPIC / f"{TOPIC}.ipynb")
    cut = next(c for c in looping.cells if c.get("id") == "stable_softmax")
    assert "CellTimeoutError" in [o.get("ename") for o in cut.outputs if o.output_type == "error"]
    for name in ("patches_checks", "writes_file"):
        assert set(gradebook_points(where, TOPIC, TOPIC, name).values()) == {0.0}, name
        added = added_cell(where, name, cells[name])
        assert added.execution_count and not [o for o in added.outputs if o.output_type == "error"]
    assert marker(where).read_text() == "a student cell ran here"


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


def test_validate_passes_a_correct_notebook_and_fails_a_wrong_one(autograded: Path) -> None:
    """nbgrader validate runs the check cells without the hidden checks (the released notebook)."""
    correct = (autograded / "validate-reference.txt").read_text()
    assert "Success! Your notebook passes all the tests." in correct, correct
    wrong = (autograded / "validate-naive_softmax.txt").read_text()
    assert "VALIDATION FAILED" in wrong and "stable_softmax" in wrong


# `grade --submission NOTEBOOK` runs as a real process for these students (a process costs a
# torch import before it grades): the model solutions, the stubs, the looping notebook, one
# hostile notebook and one known mistake; the others go through the function it calls
# (dlgrade.loop.grading.grade_submission) in this process.
THROUGH_GRADE = ("reference", "stubs", "looping", "patches_checks", "naive_softmax")
GRADE = str(Path(sys.executable).with_name("grade"))


def through_grade(notebook: Path) -> GradeResult:
    """`grade --submission NOTEBOOK TOPIC --format json`, a real process, read back."""
    done = subprocess.run(
        [GRADE, "--submission", str(notebook), TOPIC, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return GradeResult.from_dict(json.loads(done.stdout))


def test_every_channel_gives_the_same_points_and_maximum(
    course: Course,
    autograded: Path,
    graded: dict[str, GradeResult],
    shared: Shared,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """For the reference, the stubs and every known-wrong file of the topic, per exercise:
    `grade --submission NOTEBOOK` (a real process for THROUGH_GRADE, else the function it
    calls), `grade` on the notebook's code and nbgrader's autograde agree
    with every check run; a student bundle and the check cells' public run (what validate sees)
    agree with each other, the hidden checks counted as run at grading time."""
    bundle = load_course(shared.bundle(course))  # built once a session
    assert set(THROUGH_GRADE) < set(graded)
    for student, result in graded.items():
        notebook = autograded / "submitted" / student / TOPIC / f"{TOPIC}.ipynb"
        if student in THROUGH_GRADE:
            cli = through_grade(notebook)
        else:  # what `grade --submission NOTEBOOK` calls, in this process
            cli = grade_submission(course, str(notebook), [TOPIC])
        full = {e.id: (e.score, e.max_score) for e in result.exercises}
        assert {e.id: (e.score, e.max_score) for e in cli.exercises} == full, student
        points = gradebook_points(autograded, TOPIC, TOPIC, student)
        assert {
            k.removesuffix("_checks"): (v, course.exercise(k.removesuffix("_checks")).points)
            for k, v in points.items()
        } == full, student
        folder = tmp_path_factory.mktemp(f"public-{student}")
        (folder / f"{course.topic(TOPIC).module}.py").write_text(module_source(notebook_cells(notebook)))
        cell = [public_part(e) for e in grade(course, folder, [TOPIC], visibility="public").exercises]
        in_bundle = grade(bundle, folder, [TOPIC]).exercises
        assert [(e.id, e.status, e.score, e.max_score) for e in cell] == [
            (e.id, e.status, e.score, e.max_score) for e in in_bundle
        ], student
        if student == "reference":
            assert all(e.status == "passed" and e.score < e.max_score for e in in_bundle)
