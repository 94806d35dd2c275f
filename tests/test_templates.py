"""The shipped CI templates and the docs' recipes run commands `grade` really has, and
Gradescope's run_autograder works for real in a folder laid out like /autograder."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
import yaml

from dlgrade.cli import main
from dlgrade.manifest import Course
from tests.formats import gradescope_problems
from tests.support import ROOT, reference_copy, variant, with_appended

TEMPLATES = ROOT / "templates"
WORKFLOWS = sorted((TEMPLATES / "github").glob("*.yml"))
SCRIPTS = [TEMPLATES / "gradescope" / "setup.sh", TEMPLATES / "gradescope" / "run_autograder"]
DOCS = [ROOT / "docs" / "ci.md", ROOT / "docs" / "batch.md"]
_SEPARATORS = re.compile(r"\s(?:\|\||&&|[|;])\s")
_REDIRECT = re.compile(r"\s\d?>>?\s*(\"[^\"]*\"|\S+)")


def command_path(args: list[str]) -> list[str]:
    """The subcommands `grade ARGS` would run, parsed by the real CLI without running anything.

    Raises click.UsageError (unknown command or option, bad choice or value, extra argument).
    """
    ctx = main.make_context("grade", list(args))
    group: click.Group = main
    path = []
    while True:
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
        name, cmd, rest = group.resolve_command(ctx, [*protected, *ctx.args])
        assert name is not None and cmd is not None
        sub = cmd.make_context(name, rest, parent=ctx)
        path.append(name)
        if not isinstance(cmd, click.Group):
            return path
        group, ctx = cmd, sub


def _substitute(line: str, env: dict[str, str]) -> str:
    line = re.sub(r"\$\{\{.*?\}\}", "1", line)  # GitHub expressions
    line = re.sub(r"\$\(\((.*?)\)\)", "1", line)  # shell arithmetic
    line = re.sub(r"\$\{(\w+)(:-[^}]*)?\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(3), "1"), line)
    return _REDIRECT.sub(" ", line)


def grade_invocations(script: str, env: dict[str, str]) -> list[list[str]]:
    """Every `grade ...` command in a shell script (also `$GRADE ...` and `.../bin/grade ...`)."""
    env = {"GRADE": "grade", **env}
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for command in _SEPARATORS.split(_substitute(line, env)):
            try:
                words = shlex.split(command, comments=True)
            except ValueError:
                continue
            if words and re.search(r"(^|/)grade$", words[0]):
                found.append(words[1:])
    return found


def workflow_invocations(path: Path) -> list[list[str]]:
    doc = yaml.safe_load(path.read_text())
    found = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                env = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                found += grade_invocations(step["run"], {k: str(v) for k, v in env.items()})
    return found


def doc_invocations(path: Path) -> list[list[str]]:
    blocks = re.findall(r"```(?:sh|bash|console|shell)\n(.*?)```", path.read_text(), flags=re.DOTALL)
    text = "\n".join(line.removeprefix("$ ") for block in blocks for line in block.splitlines())
    return grade_invocations(text, {})


def test_the_parser_catches_wrong_commands() -> None:
    assert command_path(["batch", "subs", "--shard", "1/2", "--csv", "g.csv"]) == ["batch"]
    assert command_path(["--format", "junit"]) == ["check"]
    assert command_path(["dev", "check"]) == ["dev", "check"]
    for wrong in (
        ["--format", "pdf"],
        ["batch"],
        ["merge"],
        ["batch", "s", "--shards", "1/2"],
        ["report", "a", "b"],
    ):
        with pytest.raises(click.UsageError):
            command_path(wrong)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_run_real_commands(path: Path) -> None:
    invocations = workflow_invocations(path)
    assert invocations, f"{path.name} runs no grade command"
    paths = [command_path(args) for args in invocations]
    expected = {"grade.yml": [["check"], ["report"], ["report"]], "batch.yml": [["batch"], ["merge"]]}
    assert paths == expected[path.name]


def test_the_push_workflow_writes_every_ci_format() -> None:
    args = workflow_invocations(TEMPLATES / "github" / "grade.yml")
    formats = [a[a.index("--format") + 1] for a in args]
    assert formats == ["json", "markdown", "junit"]
    assert "--fail-under" in args[0]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_gradescope_scripts_are_valid_bash_running_real_commands(path: Path) -> None:
    assert os.access(path, os.X_OK), f"{path.name} must be executable"
    subprocess.run(["bash", "-n", str(path)], check=True)
    invocations = grade_invocations(path.read_text(), {})
    assert [command_path(args) for args in invocations] == (
        [["list"]] if path.name == "setup.sh" else [["check"]]
    )


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_documented_recipes_run_real_commands(path: Path) -> None:
    invocations = doc_invocations(path)
    assert len(invocations) >= 3
    for args in invocations:
        command_path(args)


def _autograder(tmp_path: Path, course: Course) -> Path:
    """/autograder as Gradescope lays it out, under tmp_path."""
    root = tmp_path / "autograder"
    source = root / "source"
    source.mkdir(parents=True)
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, source / name)
    for name in ("setup.sh", "run_autograder"):
        shutil.copy(TEMPLATES / "gradescope" / name, source / name)
    (root / "submission").mkdir()
    return root


def _run_autograder(root: Path) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADE": str(Path(sys.executable).with_name("grade"))}
    run = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.slow
def test_run_autograder_grades_a_submission_for_real(course: Course, tmp_path) -> None:
    root = _autograder(tmp_path, course)
    naive = variant("stability", "naive_softmax")
    with_appended(course, naive.module, naive.path, root / "submission")
    doc = _run_autograder(root)
    assert gradescope_problems(doc) == []
    assert 0 < doc["score"] < doc["extra_data"]["max_score"] == sum(t.points for t in course.topics)
    assert any(t["status"] == "failed" and t["name"].startswith("stable_softmax") for t in doc["tests"])


@pytest.mark.slow
def test_run_autograder_grades_an_uploaded_package_and_explains_an_empty_upload(
    course: Course, tmp_path
) -> None:
    root = _autograder(tmp_path, course)
    folder = reference_copy(course, tmp_path / "ref")
    with zipfile.ZipFile(root / "submission" / "upload.zip", "w") as zf:
        for module in course.modules:
            zf.write(folder / f"{module}.py", f"submission/{module}.py")
    doc = _run_autograder(root)
    assert doc["score"] == doc["extra_data"]["max_score"]
    (root / "submission" / "upload.zip").unlink()
    (root / "submission" / "notes.txt").write_text("forgot my code\n")
    doc = _run_autograder(root)
    assert gradescope_problems(doc) == []
    assert doc["score"] == 0 and "none of the exercise modules" in doc["output"]
