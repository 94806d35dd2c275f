"""The shipped CI templates and the docs' recipes run commands `grade` really has, and the
zip of `grade gradescope build`, unpacked into a folder laid out like /autograder, grades for real."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from dlgrade.core.result import points_sum, points_text
from tests.formats import gradescope_problems
from tests.support import ROOT, reference_copy, variant, with_appended

TEMPLATES = ROOT / "templates"
WORKFLOWS = sorted((TEMPLATES / "github").glob("*.yml"))
AUTOGRADER = ROOT / "src" / "dlgrade" / "release" / "autograder"
SCRIPTS = [AUTOGRADER / "setup.sh", AUTOGRADER / "run_autograder"]
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
    invocations = grade_invocations(path.read_text(), {"FORMAT": "gradescope"})
    assert [command_path(args) for args in invocations] == (
        [["list"]] if path.name == "setup.sh" else [["check"]]
    )


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_documented_recipes_run_real_commands(path: Path) -> None:
    invocations = doc_invocations(path)
    assert len(invocations) >= 3
    for args in invocations:
        command_path(args)


def _autograder(tmp_path: Path, course: Course, *options: str) -> Path:
    """/autograder as Gradescope lays it out, under tmp_path, from `grade gradescope build`."""
    root = tmp_path / "autograder"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        built = CliRunner().invoke(main, ["gradescope", "build", str(tmp_path / "ag.zip"), *options])
    assert built.exit_code == 0, built.output
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # extractall drops the modes Gradescope keeps
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
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


def _with_naive_softmax(course: Course, root: Path) -> None:
    """The submission: the model solutions with naive softmax."""
    naive = variant("stability", "naive_softmax")
    with_appended(course, naive.module, naive.path, root / "submission")


@pytest.fixture(scope="module")
def naive_by_default(course: Course, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The default autograder's results.json for naive softmax, read by the two tests below."""
    root = _autograder(tmp_path_factory.mktemp("default"), course)
    _with_naive_softmax(course, root)
    return _run_autograder(root)


@pytest.mark.slow
def test_run_autograder_grades_a_submission_for_real(course: Course, naive_by_default: dict) -> None:
    doc = naive_by_default
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


def test_the_autograder_zip_holds_the_course_and_engine_without_caches(course: Course, tmp_path) -> None:
    root = _autograder(tmp_path, course)
    names = {p.relative_to(root / "source").as_posix() for p in (root / "source").rglob("*") if p.is_file()}
    assert {"setup.sh", "run_autograder", "course.toml", "requirements.txt"} <= names
    assert {f"graders/test_{t.id}.py" for t in course.topics} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "egg-info" in n]
    assert not [n for n in names if n.startswith(("src/", "tests/", ".venv/"))]
    requirements = (root / "source" / "requirements.txt").read_text().splitlines()
    wheel = next(n for n in names if n.startswith("wheels/"))
    assert f"./{wheel}" in requirements and "torch==2.13.0" in requirements
    for script in ("setup.sh", "run_autograder"):
        assert os.access(root / "source" / script, os.X_OK)


@pytest.mark.slow
def test_hidden_until_due_keeps_hidden_results_out_of_the_visible_score(
    course: Course, naive_by_default: dict, tmp_path
) -> None:
    root = _autograder(tmp_path, course, "--hidden-until-due")
    _with_naive_softmax(course, root)
    doc = _run_autograder(root)
    assert gradescope_problems(doc) == []
    assert "score" not in doc  # Gradescope totals the tests, each shown by its own visibility
    hidden = [t for t in doc["tests"] if t["visibility"] == "after_due_date"]
    assert hidden and all("hidden" in t["tags"] for t in hidden)
    public_points = points_sum(t["score"] for t in doc["tests"] if t["visibility"] == "visible")
    assert f"public checks {points_text(public_points)}/" in doc["output"].splitlines()[0]
    assert "statuses" not in doc["extra_data"]
    everything = naive_by_default  # the same submission, default
    assert everything["score"] == round(sum(t["score"] for t in doc["tests"]), 4)  # the same total, later


def test_every_install_for_students_and_graders_uses_torchs_cpu_index() -> None:
    """One answer for torch's build: the bundle's README and workflow, the GitHub templates and the
    Gradescope setup all install from the CPU index (a Linux pip would otherwise pick CUDA)."""
    from dlgrade.release.texts import SETUP_COMMANDS, TORCH_CPU_INDEX, ci_workflow

    url = TORCH_CPU_INDEX.split()[-1]
    texts = {
        "bundle README": "\n".join(SETUP_COMMANDS),
        "bundle workflow": ci_workflow(),
        **{p.name: p.read_text() for p in (ROOT / "templates" / "github").glob("*.yml")},
        "setup.sh": (ROOT / "src/dlgrade/release/autograder/setup.sh").read_text(),
    }
    for name, text in texts.items():
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert installs, name
        for line in installs:
            assert "--extra-index-url" in line and (url in line or "$TORCH_INDEX" in line), (name, line)
    assert f'TORCH_INDEX="${{TORCH_INDEX:-{url}}}"' in texts["setup.sh"]
