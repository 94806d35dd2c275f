"""Check cells in a real IPython shell: `grade_cell` returns `grade`'s score and prints its lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from dlgrade.core.manifest import Course
from dlgrade.engine.runner import grade
from dlgrade.notebook import cells as notebook
from dlgrade.notebook.server import answer
from dlgrade.report.table import exercise_lines, render_lines
from dlgrade.sandbox.shared import shared_sandbox
from tests.support import ROOT, variant

SETUP = "import torch\nfrom dlgrade.notebook.cells import grade_cell, start_grader\n\nstart_grader()"


@pytest.fixture(scope="module", autouse=True)
def grading_process() -> Iterator[None]:
    yield
    notebook.stop_grader()


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    monkeypatch.setenv(notebook.COURSE_ENV, str(ROOT))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # no profile in the user's home
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    sh = InteractiveShell.instance(config=config)
    assert sh.run_cell(SETUP, store_history=True).success
    yield sh
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, *cells: str) -> Any:
    for cell in cells[:-1]:
        shell.run_cell(cell, store_history=True)
    return shell.run_cell(cells[-1], store_history=True)


def expected(course: Course, tmp_path: Path, exercise: str, source: str, visibility: str | None = None):
    (tmp_path / "stability.py").write_text(source)
    return grade(course, tmp_path, [exercise], visibility=visibility).exercises[0]


def test_partial_credit_is_the_exercise_score_and_the_lines_are_grades(
    course: Course, shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = variant("stability", "naive_softmax").path.read_text()
    capsys.readouterr()
    outcome = run(shell, wrong, 'grade_cell("stable_softmax", hidden_checks=True)')
    printed = capsys.readouterr()
    want = expected(course, tmp_path, "stable_softmax", "import torch\n" + wrong)
    assert 0 < want.score < want.max_score
    assert outcome.success and outcome.result == want.score
    lines = printed.out.split("Out[")[0]  # then IPython shows the returned score
    assert lines.strip() == render_lines(exercise_lines(want, len(want.id))).strip()
    assert printed.err == ""


def test_public_checks_alone_without_hidden_checks(
    course: Course, shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = variant("stability", "naive_softmax").path.read_text()
    outcome = run(shell, wrong, 'grade_cell("stable_softmax")')
    want = expected(course, tmp_path, "stable_softmax", "import torch\n" + wrong, "public")
    assert outcome.result == want.score
    out = capsys.readouterr().out
    assert "✗ hidden check" not in out and "run at grading time" in out


def test_no_points_raise_assertion_error(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    stub = "def logsumexp(x, dim=-1, keepdim=False):\n    raise NotImplementedError"
    outcome = run(shell, stub, 'grade_cell("logsumexp", hidden_checks=True)')
    assert isinstance(outcome.error_in_exec, AssertionError)
    assert "not started" in capsys.readouterr().out


def test_what_student_cells_did_to_torch_does_not_change_the_judgement(
    course: Course, shell: InteractiveShell, tmp_path: Path
) -> None:
    """Student cells run in the kernel; grading runs in a process they never touched."""
    import torch

    saved = torch.get_default_dtype(), torch.is_grad_enabled()
    wrong = variant("stability", "naive_softmax").path.read_text()
    want = expected(course, tmp_path, "stable_softmax", "import torch\n" + wrong)
    tamper = "torch.set_default_dtype(torch.float64)\ntorch.set_grad_enabled(False)"
    try:
        outcome = run(shell, wrong, tamper, 'grade_cell("stable_softmax", hidden_checks=True)')
        in_kernel = grade(course, tmp_path, ["stable_softmax"])  # what grading in the kernel would give
    finally:
        torch.set_default_dtype(saved[0])
        torch.set_grad_enabled(saved[1])
    assert in_kernel.internal_errors or in_kernel.score != want.score
    assert outcome.result == want.score


def test_grading_process_answers_bad_requests_with_one_line(course: Course) -> None:
    box = shared_sandbox(course.all_rule_patterns())
    assert answer(course, box, "not json")["error"].startswith("JSONDecodeError")
    assert "one JSON object" in answer(course, box, "[1]")["error"]
    unknown = answer(course, box, json.dumps({"id": 7, "folder": "/x", "exercise": "nope"}))
    assert unknown["id"] == 7 and "unknown topic or exercise 'nope'" in unknown["error"]
    bad = json.dumps({"id": 8, "folder": "/x", "exercise": "logsumexp", "visibility": "secret"})
    assert "visibility" in answer(course, box, bad)["error"]


def test_a_grading_process_that_dies_gives_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "course.toml").write_text("schema_version = 99\n")
    client = notebook.GradeClient(tmp_path)
    with pytest.raises(notebook.NotebookGradingError, match=r"stopped: .*schema_version must be 1"):
        client.grade(str(tmp_path), "logsumexp", None)
    assert not client.alive
