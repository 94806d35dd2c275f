"""Every command, with missing, wrong and hostile arguments, inside and outside a course: a user's
mistake is one line on stderr (`Error: ...`) and exit 2, never a traceback; and no command is
read as an exercise name when it is a mistyped command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import load_course
from dlgrade.core.result import points_text
from tests.courses import course_copy

HOSTILE = "\x1b]52;c;cHduZWQ=\x07../../etc/passwd\x1b[2K" + "x" * 300
MISSING = "/no/such/path/anywhere"
UNDER_A_FILE = "/etc/hostname/out"  # where nothing can be written
OUTPUTS = {"out", "out_dir", "course_dir"}  # arguments that name what a command writes


def _leaves(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)  # through click's look-up: the group imports commands on use
        subs = [(name, cmd.get_command(ctx, name)) for name in cmd.list_commands(ctx)]
        return [leaf for name, sub in sorted(subs) if sub for leaf in _leaves(sub, [*path, name])]
    return [(path, cmd)]


COMMANDS = _leaves(main, [])


def _required_arguments(cmd: click.Command) -> list[click.Argument]:
    return [p for p in cmd.params if isinstance(p, click.Argument) and p.required]


def _calls(path: list[str], cmd: click.Command) -> list[list[str]]:
    """Wrong and hostile calls of one command; each must fail before doing any work."""
    calls = [[*path, "--no-such-option"]]
    arguments = _required_arguments(cmd)
    if arguments:
        calls.append(path)  # a missing argument
        writes = any(a.name in OUTPUTS for a in arguments)
        for value in (UNDER_A_FILE,) if writes else (MISSING, HOSTILE):
            calls.append([*path, *([value] * len(arguments)), *_required_options(cmd)])
    return calls


def _required_options(cmd: click.Command) -> list[str]:
    out = []
    for p in cmd.params:
        if isinstance(p, click.Option) and p.required:
            choice = p.type.choices[0] if isinstance(p.type, click.Choice) else "out.csv"
            out += [p.opts[0], str(choice)]
    return out


CASES = [call for path, cmd in COMMANDS for call in _calls(path, cmd)]


def _one_line_error(result) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def inside(tmp_path_factory) -> Path:
    return course_copy(tmp_path_factory.mktemp("course"))


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c)[:40] for c in CASES])
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_mistake_is_one_line_and_exit_2(argv, where, inside, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(inside if where == "inside" else tmp_path)
    result = CliRunner().invoke(main, argv)
    _one_line_error(result)


@pytest.mark.parametrize(
    "path", [p for p, c in COMMANDS if not _required_arguments(c) and p not in (["dev", "readme"],)]
)
def test_commands_that_need_a_course_say_so_outside_one(path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, path)
    _one_line_error(result)
    assert "no course.toml" in result.stderr


@pytest.mark.parametrize(("typed", "meant"), [("lsit", "list"), ("hints", "hint"), ("exprot", "export")])
def test_a_mistyped_command_gets_a_did_you_mean(typed, meant, inside, monkeypatch) -> None:
    monkeypatch.chdir(inside)
    result = CliRunner().invoke(main, [typed, "x"])
    _one_line_error(result)
    assert f"did you mean `grade {meant}`" in result.stderr


def test_a_topic_or_exercise_close_to_a_command_is_still_graded(inside, monkeypatch) -> None:
    monkeypatch.chdir(inside)
    result = CliRunner().invoke(main, ["init", "--submission", "reference"])
    assert result.exit_code == 0, result.output
    total = points_text(load_course(inside).topic("init").points)  # the topic's whole maximum
    assert f"Total {total}/{total}" in result.stdout


def test_reset_names_the_fix_for_a_topic(inside, monkeypatch) -> None:
    monkeypatch.chdir(inside)
    result = CliRunner().invoke(main, ["reset", "stability"])
    _one_line_error(result)
    assert "grade reset stability --all" in result.stderr


def test_reset_all_refuses_before_asking_in_the_course_source(inside, monkeypatch) -> None:
    monkeypatch.chdir(inside)
    result = CliRunner().invoke(main, ["reset", "stability", "--all"], input="")
    _one_line_error(result)
    assert "?" not in result.stdout  # no confirmation prompt before the refusal


def test_top_level_help_shows_the_grading_options(monkeypatch, inside) -> None:
    monkeypatch.chdir(inside)
    out = CliRunner().invoke(main, ["--help"]).stdout
    for option in ("--submission", "--format", "--fail-under", "--device", "--plots"):
        assert option in out
    assert "grade check" not in out


def test_completion_offers_commands_exercises_and_topics(inside) -> None:
    env = {**os.environ, "_GRADE_COMPLETE": "bash_complete", "COMP_CWORD": "1"}
    grade = str(Path(sys.executable).with_name("grade"))
    words = subprocess.run(
        [grade], env={**env, "COMP_WORDS": "grade s"}, cwd=inside, capture_output=True, text=True
    ).stdout
    assert {"plain,stability", "plain,stable_softmax"} <= set(words.split())
    hint = subprocess.run(
        [grade],
        env={**env, "COMP_WORDS": "grade hint log", "COMP_CWORD": "2"},
        cwd=inside,
        capture_output=True,
        text=True,
    ).stdout
    assert set(hint.split()) == {"plain,logsumexp", "plain,log_softmax"}


def test_the_console_script_prints_one_line_outside_a_course(tmp_path) -> None:
    grade = str(Path(sys.executable).with_name("grade"))
    for argv in (["batch", str(tmp_path)], ["list"], []):
        done = subprocess.run([grade, *argv], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2, done
        assert done.stderr.strip().splitlines() == [
            f"Error: no course.toml in {tmp_path} or any folder above it; run grade inside a course"
        ]


@pytest.mark.parametrize("target", ["canvas", "gradescope"])
def test_export_to_a_tool_without_a_roster_refuses(target, tmp_path, monkeypatch) -> None:
    import json

    from dlgrade.batch.gradebook import Gradebook

    book = tmp_path / "grades.json"
    empty = Gradebook(course="c", exercises=(), max_score=1.0, rows=(), universe="0", submissions=0)
    book.write_text(json.dumps(empty.to_dict()))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", str(book), "--to", target, "--output", "out.csv"])
    _one_line_error(result)
    assert "--roster" in result.stderr and not (tmp_path / "out.csv").exists()
    plain = CliRunner().invoke(main, ["export", str(book), "--to", "csv", "--output", "out.csv"])
    assert plain.exit_code == 0, plain.output


@pytest.mark.parametrize(
    "argv",
    [["release", "OUT/bundle"], ["nbgrader", "OUT/nb"], ["gradescope", "build", "OUT/autograder.zip"]],
    ids=["release", "nbgrader", "gradescope"],
)
def test_commands_that_build_for_students_refuse_edited_stubs_alike(argv, tmp_path, monkeypatch) -> None:
    """A student who edited the course's own exercises/ (or an instructor who tried a solution there)
    gets the same one line from every command that would ship exercises/ to students."""
    (tmp_path / "course").mkdir()
    course = course_copy(tmp_path / "course")
    stub = course / "exercises" / "stability.py"
    stub.write_text(stub.read_text().replace("raise NotImplementedError", "return x", 1))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(course)
    result = CliRunner().invoke(main, [argv[0], *argv[1:-1], argv[-1].replace("OUT", str(out))])
    _one_line_error(result)
    assert "exercises/ is not the stubs (" in result.stderr and "git checkout -- exercises/" in result.stderr
    assert list(out.iterdir()) == []
