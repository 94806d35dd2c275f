"""A student bundle installs with the two commands of its README, in a fresh virtual environment.

Slow. The README's two commands run as written, in the bundle: `python3 -m venv .venv`, then
`pip install -r requirements.txt`, which installs the engine's wheel and every dependency
from pip's configured sources. To keep CI short, torch alone (about 1 GB unpacked) is
linked into the new venv from this test's environment between the two commands, so pip
finds torch==2.13.0 already there, and the second command runs without its CPU index option
(`--extra-index-url https://download.pytorch.org/whl/cpu`, asserted present): with torch in
place it is not needed, and tests contact no host but pip's configured ones.
DLGRADE_FULL_INSTALL=1 skips both and installs torch too, from that index.
Nothing else of this checkout's environment is visible in the new venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.engine.bundle import DEFERRED_MESSAGE
from dlgrade.release.texts import SETUP_HEADING, TORCH_CPU_INDEX
from tests.shared import Shared
from tests.support import ROOT, reference_copy

pytestmark = pytest.mark.slow


def readme_setup_commands(readme: str) -> list[str]:
    """The lines of the first shell block under the README's set-up heading."""
    section = readme.split(SETUP_HEADING, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README has no set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def run(args: list[str] | str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        args, cwd=cwd, env=env, shell=isinstance(args, str), text=True, capture_output=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(course: Course, shared: Shared, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle (a copy of the session's), installed exactly as its README says."""
    if shutil.which("python3") is None:
        pytest.skip("the README's commands need python3 on PATH")
    bundle = tmp_path_factory.mktemp("venv") / "bundle"
    shutil.copytree(shared.bundle(course), bundle)
    commands = readme_setup_commands((bundle / "README.md").read_text())
    assert len(commands) == 2
    for n, command in enumerate(commands):
        if n == 1 and not os.environ.get("DLGRADE_FULL_INSTALL"):
            link_torch(bundle / ".venv")
            assert f" {TORCH_CPU_INDEX} " in command, command
            command = command.replace(f" {TORCH_CPU_INDEX} ", " ")
        done = run(command, bundle)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return bundle


def link_torch(venv: Path) -> None:
    """Make this environment's torch (its packages and metadata only) visible in `venv`."""
    import torch

    assert torch.__version__.split("+")[0] == "2.13.0"
    ours = Path(torch.__file__).resolve().parents[1]
    (theirs,) = venv.glob("lib/python*/site-packages")
    info = ours / f"torch-{torch.__version__}.dist-info"
    for name in [*(info / "top_level.txt").read_text().split(), info.name]:
        (theirs / name).symlink_to(ours / name)


def grade_json(bundle: Path, *args: str) -> dict:
    done = run([str(bundle / ".venv" / "bin" / "grade"), *args, "--format", "json"], bundle)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_engine_comes_from_the_bundle(installed: Path) -> None:
    done = run(
        [str(installed / ".venv/bin/python"), "-c", "import dlgrade, torch; print(dlgrade.__file__)"],
        installed,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed / ".venv")


def test_stubs_grade_as_not_started_with_hidden_checks_listed(installed: Path, course: Course) -> None:
    grade_cli = str(installed / ".venv/bin/grade")
    table = run([grade_cli, "--format", "json", "--output", "result.json"], installed)
    assert table.returncode == 0, table.stderr[-2000:]
    assert DEFERRED_MESSAGE in table.stdout and "not started" in table.stdout
    result = json.loads((installed / "result.json").read_text())
    (installed / "result.json").unlink()
    assert {e["id"]: (e["status"], e["score"]) for e in result["exercises"]} == {
        e.id: ("not_started", 0.0) for e in course.exercises
    }
    assert result["max_score"] == sum(t.points for t in course.topics)
    assert result["deferred"]["count"] > 0


def test_the_reference_filled_bundle_passes_every_public_check(
    installed: Path, course: Course, tmp_path, shared: Shared
) -> None:
    copy = tmp_path / "solved"
    shutil.copytree(installed / "exercises", copy)  # keep the stubs for the other tests
    reference_copy(course, installed / "exercises")
    try:
        result = grade_json(installed)
        plain = run(
            [str(installed / ".venv/bin/python"), "-m", "pytest", "graders", "-q", "-p", "no:cacheprovider"],
            installed,
        )
        dev = run([str(installed / ".venv/bin/grade"), "dev", "check"], installed)
    finally:
        shutil.rmtree(installed / "exercises")
        shutil.copytree(copy, installed / "exercises")
    instructor = shared.reference(course).to_dict()
    public = {
        (e["id"], c["name"]): (c["passed"], c["message"], c["max_score"])
        for e in result["exercises"]
        for c in e["checks"]
        if c["visibility"] == "public"
    }
    assert public == {
        (e["id"], c["name"]): (c["passed"], c["message"], c["max_score"])
        for e in instructor["exercises"]
        for c in e["checks"]
        if c["visibility"] == "public"
    }
    assert all(passed for passed, _m, _s in public.values())
    assert all(e["status"] == "passed" for e in result["exercises"])
    assert result["score"] == result["public"]["max_score"] < result["max_score"]
    assert plain.returncode == 0, plain.stdout[-2000:]  # plain pytest in the bundle works too
    assert dev.returncode == 2 and "student bundle" in dev.stderr


def test_the_student_loop_commands_work_in_the_installed_bundle(installed: Path, tmp_path: Path) -> None:
    grade_cli = str(installed / ".venv/bin/grade")
    saved = tmp_path / "stability.py"
    shutil.copy(installed / "exercises" / "stability.py", saved)
    shutil.rmtree(installed / ".dlgrade", ignore_errors=True)  # the other tests' last results
    try:
        typo = run([grade_cli, "stable_sofmax"], installed)
        assert typo.returncode == 2 and "did you mean 'stable_softmax'" in typo.stderr
        hint = run([grade_cli, "hint", "logsumexp"], installed)
        assert hint.returncode == 0 and hint.stdout.startswith("logsumexp hint 1/")
        (installed / "exercises" / "stability.py").write_text(
            (ROOT / "reference" / "stability.py").read_text() + "\n\ndef helper():\n    return 1\n"
        )
        assert run([grade_cli, "stability"], installed).returncode == 0
        listed = run([grade_cli, "list"], installed).stdout
        assert (
            re.search(r"^\s+logsumexp\s+✓ passed", listed, re.MULTILINE) and "Next: collapse_linear" in listed
        )
        reset = run([grade_cli, "reset", "logsumexp"], installed)
        assert reset.returncode == 0, reset.stderr
        now = (installed / "exercises" / "stability.py").read_text()
        assert "def helper" in now and now.count("raise NotImplementedError") == 1
        watch_until_quit(installed, grade_cli)
    finally:
        shutil.copy(saved, installed / "exercises" / "stability.py")
        shutil.rmtree(installed / ".dlgrade", ignore_errors=True)


def watch_until_quit(bundle: Path, grade_cli: str) -> None:
    """`grade watch` in a real terminal (tmux): its first screen, then `q`."""
    from tests.test_watch import SOCKET, Terminal

    if shutil.which("tmux") is None:
        pytest.skip("grade watch is driven through tmux")
    term = Terminal(f"venv-watch-{os.getpid()}-{bundle.parent.name}")  # unique: tests run in parallel
    command = f"{grade_cli} watch stability; echo WATCH-EXITED $?; sleep 600"
    term.tmux("new-session", "-d", "-s", term.name, "-x", "200", "-y", "50", "-c", str(bundle), command)
    try:
        first = term.drawn(lambda s: "run #1 " in s)
        assert "logsumexp" in first
        term.key("q")
        term.wait(lambda s: "WATCH-EXITED 0" in s)
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", term.name], capture_output=True)
