"""The autograde steps in place of nbgrader's Execute: check cells score what `grade` gives the
notebook's code, and no student cell runs outside the sandbox.

These run the two steps on notebooks built here (the released stubs, the model solutions, a
known-wrong file) with outputs a hostile kernel could have produced, and score the cells
with nbgrader's own `determine_grade`, which SaveAutoGrades uses. The whole pipeline through
the real `nbgrader autograde` is in tests/test_nbgrader_pipeline.py.
"""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import ClearSolutions, Execute
from nbgrader.utils import determine_grade

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.intake.notebook_code import code_cells, module_source
from dlgrade.nbgrader.autograde import (
    RESOURCE,
    RecordRegrade,
    RegradeError,
    RegradeNotebook,
    autograde_preprocessors,
    check_cells,
)
from dlgrade.nbgrader.notebook import topic_notebook
from dlgrade.notebook import cells as notebook
from dlgrade.report.table import exercise_lines, render_lines
from tests.nbgrader_support import model_answers, with_variant
from tests.support import ROOT, grade_folder, variant

TOPIC = "stability"
PATCH_GRADE_CELL = "import dlgrade.notebook.cells as _nb\n_nb.grade_cell = lambda *a, **k: 5.0"


@pytest.fixture(scope="module", autouse=True)
def one_grading_process() -> Iterator[None]:
    """The tests share the grading process the check cells start (each costs a torch import);
    those that replace it say so. Stopped after the module's last test."""
    yield
    notebook.stop_grader()


@pytest.fixture(autouse=True)
def course_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notebook.COURSE_ENV, str(ROOT))
    # RegradeNotebook sets it in this process: setenv first, so that teardown removes it
    # again (a delenv of an unset variable records nothing to undo).
    monkeypatch.setenv(notebook.OUT_OF_BAND_ENV, "")
    monkeypatch.delenv(notebook.OUT_OF_BAND_ENV)


def source(course: Course) -> Any:
    return nbformat.from_dict(topic_notebook(course, course.topic(TOPIC)))


def released(course: Course) -> Any:
    """What students get: nbgrader's own ClearSolutions turns every solution into a stub."""
    nb, _ = ClearSolutions(code_stub={"python": "# YOUR CODE HERE\nraise NotImplementedError()"}).preprocess(
        source(course), {"language": "python"}
    )
    return nb


def with_answers(nb: Any, answers: dict[str, str]) -> Any:
    out = copy.deepcopy(nb)
    for cell in out.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[gid]
    return out


def forged(nb: Any, *added: str) -> Any:
    """Every check cell as a kernel with a patched grade_cell leaves it (full points), after
    cells `added` above the solutions."""
    out = copy.deepcopy(nb)
    out.cells[2:2] = [new_code_cell(text) for text in added]
    for cell in out.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [new_output("execute_result", data={"text/plain": "5.0"}, execution_count=1)]
    return out


def autograded(nb: Any, timeout: float = 300) -> Any:
    """The notebook after RegradeNotebook, (the kernel: already in its outputs), RecordRegrade."""
    resources: dict[str, Any] = {}
    nb, resources = RegradeNotebook(timeout=timeout).preprocess(nb, resources)
    assert resources[RESOURCE]
    nb, _ = RecordRegrade().preprocess(nb, resources)
    return nb


def points(nb: Any) -> dict[str, float]:
    return {
        c.metadata.nbgrader["grade_id"]: float(determine_grade(c)[0])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def grade_code(course: Course, nb: Any, tmp_path: Path) -> GradeResult:
    """`grade --submission` on the notebook's code, as docs/nbgrader.md shows."""
    (tmp_path / f"{course.topic(TOPIC).module}.py").write_text(module_source(code_cells(nb)))
    return grade_folder(course, tmp_path, TOPIC)


def test_the_steps_replace_nbgraders_execute_or_sit_around_it() -> None:
    from nbgrader.converters import Autograde

    stock = list(Autograde.autograde_preprocessors.default())
    at = stock.index(Execute)
    steps = autograde_preprocessors()  # the student's cells never run in a kernel
    assert steps == [*stock[:at], RegradeNotebook, RecordRegrade, *stock[at + 1 :]]
    kept = autograde_preprocessors(run_student_cells=True)
    assert kept == [*stock[:at], RegradeNotebook, Execute, RecordRegrade, *stock[at + 1 :]]
    assert steps[-1].__name__ == "CheckCellMetadata"  # nbgrader's other steps are all there


def test_a_graded_cell_dlgrade_does_not_grade_fails_the_notebook_unless_it_ran(course: Course) -> None:
    """nbgrader gives a graded cell without output full points: one nobody ran must not get them."""
    nb = with_answers(released(course), model_answers(source(course)))
    own = new_code_cell(
        "assert False", metadata={"nbgrader": {"grade": True, "grade_id": "mine", "points": 1}}
    )
    nb.cells.append(own)
    with pytest.raises(RegradeError, match="'mine' is not a dlgrade check cell"):
        autograded(nb)
    own.execution_count = 1  # Execute ran it (run_student_cells=True): nbgrader scores its outputs
    own.outputs = [new_output("error", ename="AssertionError", evalue="", traceback=[])]
    done = autograded(nb)
    assert points(done)["mine"] == 0.0


def test_a_patched_grade_cell_scores_nothing_for_stubs(course: Course, tmp_path: Path) -> None:
    nb = forged(released(course), PATCH_GRADE_CELL)
    assert set(points(nb).values()) == {5.0}  # nbgrader alone would record the forgery
    result = grade_code(course, nb, tmp_path)
    assert result.score == 0 and result.internal_errors == ()
    assert points(autograded(nb)) == {f"{e.id}_checks": 0.0 for e in result.exercises}
    assert os.environ[notebook.OUT_OF_BAND_ENV] == "1"  # the kernel's check cells idle


@pytest.mark.parametrize(
    "wrong",
    # full marks: the slow tier here; the fast tier has them in the stopped-mid-request test
    [pytest.param(None, marks=pytest.mark.slow), "naive_softmax"],
)
def test_points_and_lines_are_what_grade_gives_the_code(
    course: Course, tmp_path: Path, wrong: str | None
) -> None:
    answers = model_answers(source(course))
    if wrong:
        answers = with_variant(answers, variant(TOPIC, wrong).path)
    nb = forged(with_answers(released(course), answers))
    result = grade_code(course, nb, tmp_path)
    done = autograded(nb)
    assert points(done) == {f"{e.id}_checks": e.score for e in result.exercises}
    assert (result.score == result.max_score) == (wrong is None) and result.score > 0
    cells = {c.metadata.nbgrader["grade_id"]: c for c in done.cells if "nbgrader" in c.metadata}
    for e in result.exercises:
        printed = cells[f"{e.id}_checks"].outputs[0].text
        assert printed.strip() == render_lines(exercise_lines(e, len(e.id))).strip()


def test_only_dlgrade_check_cells_are_taken_over(course: Course) -> None:
    nb = released(course)
    own = new_code_cell(
        "assert True", metadata={"nbgrader": {"grade": True, "grade_id": "mine", "points": 1}}
    )
    nb.cells.append(own)
    assert sorted(check_cells(nb, course).values()) == sorted(e.id for e in course.topic(TOPIC).exercises)


def test_a_grading_process_that_stops_mid_request_is_replaced(course: Course, tmp_path: Path) -> None:
    """A process left behind by an earlier kernel may kill the grading process between notebooks:
    the request fails, and a fresh grading process grades the notebook."""
    nb = with_answers(released(course), model_answers(source(course)))
    first = autograded(nb)
    (tmp_path / "course.toml").write_text("schema_version = 99\n")  # this one stops at once
    notebook.stop_grader()
    notebook._CLIENTS[course.root] = notebook.GradeClient(tmp_path)
    assert (
        points(autograded(nb))
        == points(first)
        == {f"{e.id}_checks": e.points for e in course.topic(TOPIC).exercises}
    )


@pytest.mark.slow  # waits out a timeout and a replacement; the fast tier replaces a killed one
def test_a_stopped_grading_process_is_replaced_after_the_timeout(
    course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGSTOP from a process an earlier kernel left behind: no answer in time, a fresh process.
    The stopped one never answers, so a short timeout is certain to expire; its replacement
    (importing torch, then grading) gets the time a loaded machine may need."""
    nb = with_answers(released(course), model_answers(source(course)))
    first = autograded(nb)
    stopped = notebook.grading_client(course)
    real = notebook.GradeClient.grade

    def grade(self: notebook.GradeClient, *args: Any, timeout: float | None = None) -> GradeResult:
        return real(self, *args, timeout=timeout if self is stopped else 600.0)

    monkeypatch.setattr(notebook.GradeClient, "grade", grade)
    os.kill(stopped.pid, signal.SIGSTOP)
    try:
        again = autograded(nb, timeout=1)  # per exercise: 3 s for the topic's three
    finally:
        if stopped.alive:
            os.kill(stopped.pid, signal.SIGCONT)
    assert not stopped.alive  # killed, not left behind
    assert points(again) == points(first)


def test_check_cells_in_the_kernel_idle_when_graded_out_of_band(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notebook._ENV, notebook.OUT_OF_BAND_ENV, "1")
    with pytest.raises(notebook.NotebookGradingError, match="graded out of band"):
        notebook.grade_cell("logsumexp", hidden_checks=True)  # no kernel needed: it grades nothing
