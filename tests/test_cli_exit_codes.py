"""Exit status of `grade` as CI sees it: 0 whatever the score or the student's crash, 1 under
--fail-under, 2 for usage errors, 3 only when the engine failed; plus `grade report`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from tests.courses import broken_course, course_copy
from tests.support import ROOT, hostiles, reference_copy, with_appended


@pytest.fixture
def runner(monkeypatch, tmp_path_factory) -> CliRunner:
    # A copy of the course: grading its own exercises/ saves the student's state in .dlgrade/
    monkeypatch.chdir(course_copy(tmp_path_factory.mktemp("course")))
    return CliRunner()


def test_completed_grading_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--submission", "reference", "stability"])
    assert result.exit_code == 0, result.output
    assert "Total 20/20" in result.stdout


@pytest.mark.parametrize("fmt", ["junit", "gradescope", "markdown", "json"])
def test_a_student_crash_is_not_a_ci_failure(runner: CliRunner, course, tmp_path, fmt: str) -> None:
    crash = next(h for h in hostiles() if h.id == "os_exit_in_call")
    folder = with_appended(course, crash.module, crash.path, tmp_path / "sub")
    result = runner.invoke(main, ["--submission", str(folder), "--format", fmt, "log_softmax"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert "grader error" not in result.stderr


def test_fail_under_exits_1_only_below_the_threshold(runner: CliRunner, course, tmp_path) -> None:
    below = runner.invoke(
        main, ["--fail-under", "50", "--format", "markdown", "stability"]
    )  # the untouched stubs
    assert below.exit_code == 1, below.output
    assert below.stdout.rstrip().endswith("Points 0/20")
    assert "under --fail-under 50%" in below.stderr
    at = runner.invoke(
        main, ["--submission", str(reference_copy(course, tmp_path)), "--fail-under", "100", "stability"]
    )
    assert at.exit_code == 0, at.output


@pytest.mark.parametrize(
    "args",
    [
        ["no_such_exercise"],
        ["--submission", "/no/such/folder"],
        ["--format", "pdf"],
        ["--fail-under", "101"],
        ["--submission", str(ROOT / "course.toml")],
    ],
    ids=["unknown-name", "missing-submission", "bad-format", "bad-fail-under", "not-a-zip"],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_an_unsafe_zip_submission_is_a_usage_error(runner: CliRunner, tmp_path) -> None:
    from tests.archives import traversal

    bad = traversal(tmp_path, tmp_path / "escaped.txt")
    result = runner.invoke(main, ["--submission", str(bad)])
    assert result.exit_code == 2
    assert "path traversal" in result.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_engine_failure_exits_3(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(broken_course(tmp_path))
    result = CliRunner().invoke(main, ["--submission", "reference", "--format", "junit"])
    assert result.exit_code == 3, result.output
    assert "grader file missing" in result.stderr
    assert result.stdout == ""


@pytest.mark.slow
def test_engine_failure_exits_3_in_a_real_process(tmp_path) -> None:
    """A grader that raises at import, run as CI runs it: `grade` in a fresh process."""
    folder = broken_course(tmp_path, how="raises")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("grade")), "--format", "junit"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 3, run.stderr
    assert "a bug in the grader" in run.stderr
    assert run.stdout == ""


def test_report_renders_a_saved_result(runner: CliRunner, tmp_path) -> None:
    saved = tmp_path / "result.json"
    first = runner.invoke(
        main, ["--submission", "reference", "--format", "json", "--output", str(saved), "stability"]
    )
    assert first.exit_code == 0, first.output
    md = runner.invoke(main, ["report", str(saved), "--format", "markdown"])
    assert md.exit_code == 0 and md.stdout.rstrip().endswith("Points 20/20")
    again = runner.invoke(main, ["report", str(saved), "--format", "json"])
    assert json.loads(again.stdout)["exercises"] == json.loads(saved.read_text())["exercises"]


@pytest.mark.parametrize("content", [None, "{}", "not json"], ids=["missing", "not-a-result", "not-json"])
def test_report_of_a_bad_file_exits_2(runner: CliRunner, tmp_path, content: str | None) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(main, ["report", str(path)])
    assert result.exit_code == 2, result.output
    assert "result.json" in result.stderr


def test_the_console_script_flushes_everything_and_keeps_the_exit_status(tmp_path) -> None:
    """`grade` leaves with os._exit (no slow teardown): output must be complete all the same."""
    grade = str(Path(sys.executable).with_name("grade"))
    (tmp_path / "course").mkdir()
    root = course_copy(tmp_path / "course")  # grading its exercises/ saves state in .dlgrade/

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([grade, *args], cwd=root, capture_output=True, text=True, timeout=300)

    done = run("--submission", "reference", "--format", "json", "stability")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 20
    below = run("--fail-under", "50", "stable_softmax")
    assert below.returncode == 1 and "Total 0/5 (0%)" in below.stdout
    assert below.stderr.endswith("under --fail-under 50%\n")
    assert run("no_such_exercise").returncode == 2
