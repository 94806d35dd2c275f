"""nbgrader autograde steps that take each check cell's points from dlgrade, and run no student
code outside dlgrade's sandbox.

nbgrader scores a test cell from the outputs the notebook's kernel gave it, and that kernel
runs the student's cells as the user running nbgrader, with nothing confining them: a cell
that replaces `dlgrade.notebook.cells.grade_cell`, `print`, `sys.stdout` or IPython's
display hooks would choose its own points, and one that writes files or signals processes
reaches the gradebook, the course and the grading of later notebooks. The nbgrader_config.py
that `grade nbgrader` writes therefore sets `c.Autograde.autograde_preprocessors =
autograde_preprocessors()`: nbgrader's own steps with its Execute step replaced by two.

- `RegradeNotebook` (where Execute was; before it, when Execute is kept): the code of the
  sanitized submission (nbgrader has put the instructor's locked cells back) becomes the
  topic's module (`dlgrade.intake.notebook_code`), as under "Checking a gradebook against `grade`"
  in docs/nbgrader.md, and is graded with every check like `grade --submission FOLDER`, in
  a grading process (`dlgrade.notebook.server`) that nbgrader's process starts and keeps for
  all notebooks. It sets $DLGRADE_OUT_OF_BAND, so the kernel's check cells grade nothing.
- `RecordRegrade` (after Execute, when kept): each check cell's outputs become that
  grading's: the exercise's lines from `grade`'s table, then its score as the cell's value
  (nbgrader's partial credit) or an AssertionError when it has no points. nbgrader's
  SaveAutoGrades then records them, and its feedback shows them. A graded cell that is not
  one of dlgrade's check cells and never ran would get full points from nbgrader (no output,
  no error): that notebook fails instead.

`autograde_preprocessors(run_student_cells=True)` keeps nbgrader's Execute between the two,
for instructors who want the student cells' own outputs in feedback and run nbgrader in a
container or as a user who owns nothing else (docs/nbgrader.md, "Limits").

A grading process that stops answering (killed, or stopped by a process an earlier
notebook's kernel left behind) is replaced once; it has `RegradeNotebook.timeout` seconds
per exercise. A grading that fails (twice no answer, the graders failed) raises: nbgrader
records no grade for that notebook, names it in its error log and exits with status 1.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from dlgrade.core.manifest import Course
from dlgrade.core.printable import printable
from dlgrade.core.result import ExerciseResult, GradeResult
from dlgrade.intake.notebook_code import code_cells, module_source
from dlgrade.nbgrader.notebook import CHECKS_SUFFIX
from dlgrade.notebook.cells import (
    OUT_OF_BAND_ENV,
    NotebookGradingError,
    find_course,
    grading_client,
    notebook_report,
)

RESOURCE = "dlgrade_regrade"  # where RegradeNotebook leaves the grades for RecordRegrade
DEFAULT_TIMEOUT = 300.0  # seconds per exercise; nbgrader_config.py sets the cell timeout


class RegradeError(RuntimeError):
    """A submitted notebook could not be graded out of band; one line."""


@dataclass(frozen=True)
class CellGrade:
    """What one check cell shows and scores: `grade`'s lines and the points it earns."""

    exercise: str
    text: str
    points: float
    status: str


def autograde_preprocessors(*, run_student_cells: bool = False) -> list[Any]:
    """nbgrader's autograde steps with its Execute step replaced by RegradeNotebook and
    RecordRegrade, or, with `run_student_cells`, with those two around it (module docstring)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    steps = list(Autograde.autograde_preprocessors.default())
    at = steps.index(Execute)
    kept = [Execute] if run_student_cells else []
    return [*steps[:at], RegradeNotebook, *kept, RecordRegrade, *steps[at + 1 :]]


def check_cells(notebook: NotebookNode, course: Course) -> dict[str, str]:
    """grade id -> exercise id for the notebook's graded dlgrade check cells."""
    known = {e.id for e in course.exercises}
    out = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = str(meta.get("grade_id", ""))
        exercise = gid.removesuffix(CHECKS_SUFFIX)
        graded = cell.cell_type == "code" and meta.get("grade")
        if graded and gid.endswith(CHECKS_SUFFIX) and exercise in known:
            out[gid] = exercise
    return out


def regrade(notebook: NotebookNode, course: Course, timeout: float) -> dict[str, CellGrade]:
    """Grade the notebook's code with every check of its check cells' exercises: grade id -> grade.

    Each grading process gets `timeout` seconds per exercise to answer."""
    checks = check_cells(notebook, course)
    if not checks:
        return {}
    exercises = sorted(set(checks.values()), key=[e.id for e in course.exercises].index)
    source = module_source(code_cells(notebook))
    with tempfile.TemporaryDirectory(prefix="dlgrade-autograde-") as folder:
        for module in {course.exercise(e).module for e in exercises}:
            Path(folder, f"{module}.py").write_text(source, encoding="utf-8")
        result = _grade(course, folder, exercises, timeout * len(exercises))
    by_id = {e.id: e for e in result.exercises}
    return {gid: cell_grade(by_id[e], course.exercise(e).points) for gid, e in checks.items()}


def _grade(course: Course, folder: str, exercises: list[str], timeout: float) -> GradeResult:
    """Every check of `exercises` on `folder`; a second, fresh grading process if the first
    stopped or gave no answer in `timeout` seconds (something killed or stopped it)."""
    try:
        result = grading_client(course).grade(folder, exercises, None, timeout=timeout)
    except NotebookGradingError:
        try:
            result = grading_client(course).grade(folder, exercises, None, timeout=timeout)
        except NotebookGradingError as exc:
            raise RegradeError(f"out-of-band grading failed: {exc}") from None
    if result.internal_errors:
        raise RegradeError(f"out-of-band grading failed: {result.internal_errors[0]}")
    return result


def cell_grade(e: ExerciseResult, points: float) -> CellGrade:
    """The check cell of exercise `e` worth `points`: its lines and at most its points."""
    text = notebook_report(e)
    return CellGrade(e.id, text, min(e.score, points) if e.score > 0 else 0.0, e.status)


def cell_outputs(grade: CellGrade, execution_count: int | None) -> list[NotebookNode]:
    """The outputs nbgrader scores: the lines, then the points or an error (no points)."""
    lines = new_output("stream", name="stdout", text=grade.text + "\n")
    if grade.points > 0:
        value = {"text/plain": repr(float(grade.points))}
        return [lines, new_output("execute_result", data=value, execution_count=execution_count)]
    why = f"{grade.exercise}: no points ({grade.status.replace('_', ' ')})"
    error = new_output("error", ename="AssertionError", evalue=why, traceback=[f"AssertionError: {why}"])
    return [lines, error]


class RegradeNotebook(NbGraderPreprocessor):
    """Before Execute: grade the submitted notebook's code out of band (see the module docstring)."""

    timeout = Float(
        DEFAULT_TIMEOUT, help="Seconds per exercise the grading process has to answer before it is replaced."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        os.environ[OUT_OF_BAND_ENV] = "1"  # the kernel Execute starts inherits it: its check cells idle
        try:
            grades = regrade(nb, find_course(), self.timeout)
        except (RegradeError, NotebookGradingError) as exc:
            self.log.error("dlgrade: %s", printable(str(exc)))
            raise
        resources[RESOURCE] = grades
        return nb, resources


class RecordRegrade(NbGraderPreprocessor):
    """After Execute: each check cell's outputs become the out-of-band grade (module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        grades: dict[str, CellGrade] = resources.get(RESOURCE, {})
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id")
            if cell.cell_type != "code":
                continue
            if gid in grades:
                cell.outputs = cell_outputs(grades[gid], cell.get("execution_count"))
            elif meta.get("grade") and cell.get("execution_count") is None:
                # nbgrader would give it full points (no output, no error) for code nobody ran.
                why = (
                    f"graded cell {gid!r} is not a dlgrade check cell, and the student's cells are "
                    "not run (autograde_preprocessors(run_student_cells=True) runs them, unconfined)"
                )
                self.log.error("dlgrade: %s", why)
                raise RegradeError(why)
        return nb, resources
