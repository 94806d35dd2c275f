"""The `grade` command: every exit code, output streams, and one real run of the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from tests.courses import course_copy
from tests.gradings import share_gradings
from tests.shared import Shared
from tests.support import ROOT, variant, with_appended


@pytest.fixture
def run(monkeypatch, tmp_path_factory):
    # A copy of the course: grading its own exercises/ saves the student's state in .dlgrade/
    monkeypatch.chdir(course_copy(tmp_path_factory.mktemp("course")))

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_no_arguments_grades_everything_and_exits_0(run, shared: Shared, monkeypatch) -> None:
    # the engine's grading of the stubs is the session's shared one (tests/gradings.py: the same
    # bytes as tests/test_release.py's and tests/test_course.py's); the command's code runs in full
    share_gradings(shared, monkeypatch)
    result = run()
    assert result.exit_code == 0
    assert "not started" in result.stdout and "Total 0/" in result.stdout


def test_json_alone_on_stdout(run) -> None:
    result = run("--submission", "reference", "--format", "json", "stability")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["score"] == doc["max_score"] == 20
    ex = doc["exercises"][0]
    assert {"id", "topic", "status", "score", "max_score", "checks"} <= ex.keys()
    assert {"name", "visibility", "passed", "score", "max_score", "message"} <= ex["checks"][0].keys()


def test_output_file_is_written_and_table_still_shown(run, tmp_path) -> None:
    out = tmp_path / "result.json"
    out.write_text("old")
    result = run("--submission", "reference", "--format", "json", "--output", str(out), "logsumexp")
    assert result.exit_code == 0
    assert json.loads(out.read_text())["score"] == 5
    assert "logsumexp" in result.stdout and f"wrote {out}" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temp file left behind


def test_fail_under(run) -> None:
    assert run("--fail-under", "50", "stability").exit_code == 1
    assert run("--submission", "reference", "--fail-under", "100", "stability").exit_code == 0


def test_a_crashing_student_is_not_a_failing_job(run, tmp_path) -> None:
    v = variant("stability", "forbidden_builtin")
    folder = with_appended(_course(), v.module, v.path, tmp_path / "sub")
    result = run("--submission", str(folder), "stability")
    assert result.exit_code == 0 and "error" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no_such_exercise",), "unknown topic or exercise 'no_such_exercise'"),
        (("--submission", "/no/such/folder"), "does not exist"),
        (("--format", "yaml"), "Invalid value for '--format'"),
        (("--fail-under", "150"), "--fail-under"),
        (("--output", "/no/such/dir/r.json", "--submission", "reference", "logsumexp"), "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(run, args, message) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_outside_a_course(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2 and "no course.toml" in result.stderr


def test_list_shows_every_exercise(run) -> None:
    result = run("list")
    assert result.exit_code == 0
    for e in _course().exercises:
        assert e.id in result.stdout


def test_installed_script_runs_for_real(tmp_path) -> None:
    script = Path(sys.executable).with_name("grade")
    proc = subprocess.run(
        [str(script), "--submission", "reference", "--format", "json", "log_softmax"],
        cwd=ROOT / "graders",
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["exercises"][0]["status"] == "passed"


def _course():
    from dlgrade.core.manifest import load_course

    return load_course(ROOT)
