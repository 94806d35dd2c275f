"""Check cells for notebooks (nbgrader): grade the code the notebook ran with dlgrade's graders.

A notebook's setup cell runs `start_grader()`, which starts a grading process
(`dlgrade.notebook.server`) before any student cell runs. Each check cell calls
`grade_cell("stable_softmax")`: the definitions the notebook's cells have run so far
(`dlgrade.intake.notebook_code`) are written as the topic's module to a private temporary folder,
and the grading process grades that exercise with the same graders, sandbox and scoring as
`grade`. Student code never runs in the grading process, and nothing the kernel holds
(the student's functions, torch's state) is used to judge.

nbgrader scores a test cell from its output: an error gives 0, a number gives that many
points (partial credit), nothing gives full points. So the cell prints the lines `grade`
prints for the exercise and returns the exercise's score; with no points it raises
AssertionError instead. Without the hidden checks (the student's run, `nbgrader validate`)
a cell whose every public check passed returns nothing, so validation passes.

Under `nbgrader autograde` with the config `grade nbgrader` writes, nbgrader grades the
notebook's code itself, out of the kernel's reach (`dlgrade.nbgrader.autograde`), and sets
$DLGRADE_OUT_OF_BAND for the kernel: the check cells then grade nothing and fail (nbgrader
replaces their outputs by that grading's).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from dlgrade.core.manifest import MANIFEST_NAME, Course, ManifestError, find_course_root, load_course
from dlgrade.core.result import ExerciseResult, GradeResult, deferred_points, exercise_status, points_sum
from dlgrade.engine.bundle import DEFERRED_MESSAGE
from dlgrade.intake.notebook_code import module_source

COURSE_ENV = "DLGRADE_COURSE"
OUT_OF_BAND_ENV = "DLGRADE_OUT_OF_BAND"
# The environment before any student cell ran: the grading process gets this one.
_ENV = dict(os.environ)


class NotebookGradingError(RuntimeError):
    """The check could not run (no course, no kernel, the grading process failed)."""


def find_course() -> Course:
    """The course named by $DLGRADE_COURSE, else the one around the working directory."""
    named = _ENV.get(COURSE_ENV) or os.environ.get(COURSE_ENV)
    try:
        root = Path(named) if named else find_course_root(Path.cwd())
        if not (root / MANIFEST_NAME).is_file():
            raise ManifestError(f"{COURSE_ENV}={named} holds no {MANIFEST_NAME}")
        return load_course(root)
    except ManifestError:
        where = f"{COURSE_ENV}={named}" if named else f"{Path.cwd()} (nor any folder above it)"
        raise NotebookGradingError(
            f"this notebook found no dlgrade course in {where}: start Jupyter inside the course "
            f"folder (the one with {MANIFEST_NAME}), or set it first in a cell: "
            f"import os; os.environ[{COURSE_ENV!r}] = '/path/to/course'"
        ) from None


def start_grader() -> None:
    """Start the grading process now, so that it starts before the student's code runs."""
    if _ENV.get(OUT_OF_BAND_ENV):
        return
    try:
        grading_client(find_course())
    except NotebookGradingError as exc:
        print(f"note: {exc}; the check cells will not run here.")


def stop_grader() -> None:
    """Stop the grading processes this kernel started (they also stop when it exits)."""
    while _CLIENTS:
        _CLIENTS.popitem()[1].close()


def grade_cell(exercise: str, *, hidden_checks: bool = False) -> float | None:
    """Grade `exercise` on the code this notebook has run; print what `grade` prints for it.

    Public checks only unless `hidden_checks` (nbgrader's autograde sets it): then the hidden
    checks count as run at grading time, as in a student bundle. Returns the points earned,
    for nbgrader's partial credit, or None when every check that ran passed (nbgrader then
    gives the cell its full points, so `nbgrader validate` passes a correct notebook); raises
    AssertionError when there are no points.
    """
    __tracebackhide__ = True  # IPython shows the failure, not this function's frames
    if _ENV.get(OUT_OF_BAND_ENV):  # an error: 0 points should this output ever be kept
        raise NotebookGradingError("graded out of band: nbgrader replaces this cell's output")
    course = find_course()
    try:
        spec = course.exercise(exercise)
    except KeyError:
        raise NotebookGradingError(f"{exercise!r} is not an exercise of {course.title!r}") from None
    source = module_source(_executed_cells())
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="dlgrade-notebook-") as folder:
        warnings.simplefilter("ignore")  # anything on stderr would cost nbgrader's points
        Path(folder, f"{spec.module}.py").write_text(source, encoding="utf-8")
        result = grading_client(course).grade(folder, exercise, None if hidden_checks else "public")
    if result.internal_errors:
        raise NotebookGradingError(f"the graders failed: {result.internal_errors[0]}")
    shown = result.exercises[0] if hidden_checks else public_part(result.exercises[0])
    print(notebook_report(shown))
    if shown.score <= 0:
        raise AssertionError(f"{exercise}: no points yet ({shown.status.replace('_', ' ')})")
    if not hidden_checks and shown.status == "passed":
        return None  # every public check passed: full credit for validation, not a fraction
    return min(shown.score, spec.points)


def public_part(e: ExerciseResult) -> ExerciseResult:
    """The exercise as a run of its public checks shows it: hidden checks run at grading time.

    Scored as `grade` scores a student bundle (docs/release.md): the hidden checks count 0
    and are listed as deferred; when every public check passed, the score is the points less
    the deferred points, so every channel shows the same score out of the same maximum.
    """
    checks = tuple(
        c
        if c.visibility == "public"
        else replace(c, passed=False, score=0.0, outcome="deferred", message=DEFERRED_MESSAGE, hint="")
        for c in e.checks
    )
    public = [c for c in checks if c.outcome != "deferred"]
    passed = bool(public) and all(c.passed for c in public)
    score = (
        points_sum((e.max_score, -deferred_points(checks))) if passed else points_sum(c.score for c in public)
    )
    status = exercise_status(checks, score, e.max_score)
    passed_now = status == "passed"
    return replace(
        e,
        checks=checks,
        score=score,
        status=status,
        hint="" if passed_now else e.hint,
        mistake=None if passed_now else e.mistake,
    )


def notebook_report(e: ExerciseResult) -> str:
    """The exercise's lines from `grade`'s table (with the deferred hidden checks, if any)."""
    from dlgrade.report.table import exercise_lines, render_lines

    return render_lines(exercise_lines(e, len(e.id))).rstrip("\n")


def _executed_cells() -> list[str]:
    """Every cell this kernel has run, in order, as Python (IPython's input history)."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise NotebookGradingError("grade_cell runs in a notebook (an IPython kernel)")
    return list(shell.history_manager.input_hist_parsed)


class GradeClient:
    """One grading process (`python -m dlgrade.notebook.server`) and the requests sent to it."""

    def __init__(self, root: Path) -> None:
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - lives with the process
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "dlgrade.notebook.server", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,  # never the kernel's stderr: nbgrader gives 0 for stderr output
            env=_ENV,
            cwd=tempfile.gettempdir(),
            start_new_session=True,  # a kernel interrupt (SIGINT to its group) must not reach it
        )
        self._last_id = 0

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def grade(
        self,
        folder: str,
        exercise: str | Sequence[str],
        visibility: str | None,
        *,
        timeout: float | None = None,
    ) -> GradeResult:
        """The result for `exercise` (or several) on `folder`; after `timeout` seconds without
        an answer the process is killed and NotebookGradingError raised."""
        self._last_id += 1
        names = [exercise] if isinstance(exercise, str) else list(exercise)
        request = {"id": self._last_id, "folder": folder, "exercises": names, "visibility": visibility}
        try:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
            answered = timeout is None or select.select([self._proc.stdout], [], [], timeout)[0]
            line = self._proc.stdout.readline() if answered else b""
        except OSError:
            answered, line = True, b""
        except BaseException:  # interrupted (nbgrader's cell timeout): the reply would come late
            self.close()
            raise
        if not answered:
            self.close()  # stopped or stuck: a fresh one starts next time
            raise NotebookGradingError(f"the grading process gave no answer in {timeout:g} s")
        try:
            reply: dict[str, Any] = json.loads(line) if line else {}
        except ValueError:
            reply = {}
        if not isinstance(reply, dict) or reply.get("id") != self._last_id:
            tail = self._log_tail()
            self.close()  # it answered nothing, or out of turn: a fresh one starts next time
            raise NotebookGradingError(f"the grading process stopped: {tail}")
        if "error" in reply:
            raise NotebookGradingError(str(reply["error"]))
        return GradeResult.from_dict(reply["result"])

    def _log_tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def close(self) -> None:
        if self.alive:
            self._proc.kill()
        self._proc.wait()
        self._log.close()


_CLIENTS: dict[Path, GradeClient] = {}


def grading_client(course: Course) -> GradeClient:
    """This process's grading process for `course`; a fresh one if it is not running."""
    client = _CLIENTS.get(course.root)
    if client is None or not client.alive:
        client = _CLIENTS[course.root] = GradeClient(course.root)
    return client
