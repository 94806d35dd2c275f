"""Conventions people reach for: `python -m dlgrade`, shell completion, one version, a licence."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import dlgrade
from tests.support import ROOT

GRADE = str(Path(sys.executable).with_name("grade"))


def complete(shell: str, words: str, cword: int) -> str:
    """What the shell's completion function asks `grade` (fish passes the word being completed)."""
    current = words.split(" ")[cword] if shell == "fish" else str(cword)
    env = {**os.environ, "_GRADE_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": current}
    done = subprocess.run([GRADE], env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_python_m_dlgrade_is_grade() -> None:
    done = subprocess.run([sys.executable, "-m", "dlgrade", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"grade, version {dlgrade.__version__}"
    done = subprocess.run([sys.executable, "-m", "dlgrade", "list"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "stable_softmax" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "dlgrade", "no_such_exercise"], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 2


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_subcommands_complete_in_every_shell(shell: str) -> None:
    assert "batch" in complete(shell, "grade ba", 1)
    names = complete(shell, "grade ", 1)
    for command in ("check", "batch", "merge", "export", "list"):
        assert command in names
    assert "--shard" in complete(shell, "grade batch --sh", 2)


def test_bash_completes_through_the_sourced_script() -> None:
    """What a user's ~/.bashrc runs (docs/completion in README), in a real bash."""
    bash = shutil.which("bash")
    assert bash is not None
    script = (
        'eval "$(_GRADE_COMPLETE=bash_source grade)"\n'
        "COMP_WORDS=(grade mer); COMP_CWORD=1; _grade_completion grade\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{Path(GRADE).parent}:{os.environ['PATH']}"}
    done = subprocess.run([bash, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["merge"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_are_generated(shell: str) -> None:
    env = {**os.environ, "_GRADE_COMPLETE": f"{shell}_source"}
    done = subprocess.run([GRADE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "_GRADE_COMPLETE" in done.stdout


def test_one_version_a_license_and_a_changelog() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    from importlib.metadata import metadata

    assert metadata("dlgrade")["Version"] == dlgrade.__version__
    assert project["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()
    assert f"## {dlgrade.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_install_requirements_are_ranges_and_the_pins_are_constraints() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if "==" in d]
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line]
    assert "torch==2.13.0" in pins
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
