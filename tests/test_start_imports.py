"""What `grade` imports for commands that grade nothing: never torch, pytest or numpy.

A structural test (which modules are loaded), not a timing one: `grade --help`, `grade list`
and `grade hint` answer in the time Python and click take, with no heavy import to pay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.courses import course_copy

PROBE = """
import json, sys
from dlgrade.cli.main import main
out, args = sys.argv[1], sys.argv[2:]
try:
    main(args, prog_name="grade")
except SystemExit as exc:
    code = exc.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""
HEAVY = ("torch", "pytest", "numpy", "dlgrade.engine.runner", "dlgrade.kit")


def loaded_by(
    tmp_path: Path,
    args: list[str],
    codes: tuple[int | None, ...] = (0, None),
    env: dict[str, str] | None = None,
) -> set[str]:
    """The modules loaded once the real CLI has answered `grade ARGS` in a course copy (in an
    empty folder where ARGS start with OUTSIDE), with an exit code among `codes`, with `env`
    added to the environment."""
    outside = args[:1] == [OUTSIDE]
    folder = tmp_path / "empty" if outside else course_copy(tmp_path)
    folder.mkdir(exist_ok=True)
    args = args[1:] if outside else args
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    found = json.loads(out.read_text())
    assert found["code"] in codes, proc.stderr[-2000:]
    loaded = set(found["modules"])
    assert "dlgrade.cli.main" in loaded  # the probe ran the real CLI
    return loaded


OUTSIDE = "<outside a course>"


@pytest.mark.parametrize(
    ("args", "also_not"),
    [
        (["--help"], ("rich", "xml.etree.ElementTree")),
        (["--version"], ("rich",)),
        (["list"], ()),
        (["hint", "logsumexp"], ("rich",)),
        (["batch", "--help"], ("rich",)),
    ],
)
def test_commands_that_grade_nothing_import_no_torch(
    tmp_path: Path, args: list[str], also_not: tuple[str, ...]
) -> None:
    loaded = loaded_by(tmp_path, args)
    for name in (*HEAVY, *also_not):
        assert name not in loaded, f"grade {' '.join(args)} imported {name}"


LAZY_MODULES = ("dlgrade.cli.batch", "dlgrade.cli.course", "dlgrade.cli.dev", "dlgrade.nbgrader.course")


def test_grading_imports_no_other_command(tmp_path: Path) -> None:
    """`grade TOPIC` (grading, the default command) imports none of the other commands' modules:
    they load when named (`DefaultGroup.lazy`). `grade stability --help` takes the same path
    (a topic, not a command: the default command) and stops before grading."""
    loaded = loaded_by(tmp_path, ["stability", "--help"])
    for name in LAZY_MODULES:
        assert name not in loaded, f"parsing `grade stability` imported {name}"


def test_every_lazy_command_is_the_command_of_its_name() -> None:
    """The table of commands imported on use names each by its own name, and each resolves."""
    import click

    from dlgrade.cli.main import COMMANDS, main

    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name, name
    assert set(main.list_commands(ctx)) == {*COMMANDS, "check"}


@pytest.mark.parametrize(
    "args",
    [
        [OUTSIDE],
        [OUTSIDE, "--submission", "reference"],
        ["nosuchtopic"],
        ["--submission", "/no/such/folder"],
        ["batch", "/no/such/folder"],
        ["release", "."],  # the course's own folder: refused
        ["--output", "/no/such/folder/result.json", "--format", "json"],
        ["package", "--output", "/no/such/folder/submission.zip"],
    ],
    ids=[
        "no-course",
        "no-course-check",
        "unknown-topic",
        "no-submission",
        "no-batch-folder",
        "release-here",
        "output-nowhere",
        "package-nowhere",
    ],
)
def test_usage_errors_answer_before_importing_torch(tmp_path: Path, args: list[str]) -> None:
    """A command given a wrong name or path says so (exit 2) without importing torch or pytest:
    the answer comes in the time Python and click take, not after the engine's import."""
    loaded = loaded_by(tmp_path, args, codes=(2,))
    for name in ("torch", "pytest", "dlgrade.engine.runner"):
        assert name not in loaded, f"grade {' '.join(args)} imported {name} before refusing"


@pytest.mark.parametrize(
    "env",
    [{"SLURM_ARRAY_TASK_ID": "3"}, {"JOB_COMPLETION_INDEX": "x", "DLGRADE_SHARD_COUNT": "4"}],
    ids=["slurm-without-count", "kubernetes-not-a-number"],
)
def test_a_bad_array_job_answers_before_the_containment_probe(tmp_path: Path, env: dict[str, str]) -> None:
    """Array variables that name no shard are a usage error (exit 2), said before the batch
    probes the kernel's containment or imports the engine."""
    loaded = loaded_by(tmp_path, ["batch", "exercises"], codes=(2,), env=env)
    for name in ("torch", "dlgrade.engine.runner", "dlgrade.dev.doctor"):
        assert name not in loaded, f"a bad array job imported {name} before refusing"
