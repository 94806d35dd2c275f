"""CONTRIBUTING's "Adding an exercise" recipe, followed literally on a copy of the course.

A toy one-function topic is added with only the files the recipe names (each path is checked
against the recipe's words) and its grader is the recipe's own example; then `grade dev check`
passes, and the project's generic tests, unedited and run by a real pytest in the copy, find
the toy's fixtures and counterpart and pass on them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlgrade.core.manifest import load_course
from tests.courses import course_copy
from tests.support import ROOT

TOY_MODULE = "toy"  # the topic's id and its module
EXERCISE = "toy_softmax"

MANIFEST = f'''
[[topics]]
id = "{TOY_MODULE}"
title = "A toy topic that follows CONTRIBUTING's recipe"

[[exercises]]
id = "{EXERCISE}"
topic = "{TOY_MODULE}"
points = 2
summary = "softmax along a dim, finite for large logits."
hint = "Subtract the max along `dim` before exp."
hints = ["e = exp(x - max of x along dim, keepdim=True); divide e by its sum along dim (keepdim=True)."]
'''

STUB = f'''"""Topic `{TOY_MODULE}`: one softmax."""

import torch


def {EXERCISE}(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax along `dim`: exp(x - m) / sum(exp(x - m)), m the max along `dim`.

    x: any shape, float32 or float64; the result has the shape and dtype of x.
    """
    # TODO: shift by the max along dim before exp
    raise NotImplementedError
'''

MODEL = f'''"""Model solution for topic `{TOY_MODULE}`."""

import torch


def {EXERCISE}(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax along `dim`."""
    e = torch.exp(x - torch.amax(x, dim=dim, keepdim=True))
    return e / torch.sum(e, dim=dim, keepdim=True)
'''

COUNTERPART = f'''"""torch's own version of the `{TOY_MODULE}` model solution."""

import torch

COUNTERPARTS = {{"{EXERCISE}": lambda x, dim=-1: torch.softmax(x, dim)}}
'''

WRONG = f"""# loses: {EXERCISE}
# caught by: {EXERCISE}: large logits stay finite
import torch


def {EXERCISE}(x, dim=-1):
    e = torch.exp(x)
    return e / torch.sum(e, dim=dim, keepdim=True)
"""

RIGHT = f"""import torch


def {EXERCISE}(x, dim=-1):
    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))
"""


def recipe() -> str:
    """CONTRIBUTING's sections on where a new thing goes and on adding an exercise or topic."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    start, end = text.index("## Where a new thing goes"), text.index("## Conventions")
    return text[start:end]


def grader_example(text: str) -> str:
    """The recipe's grader example (its one Python block), for the toy's exercise."""
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1, "the recipe should hold one grader example"
    example = textwrap.dedent(blocks[0])
    assert '"stable_softmax"' in example, "the example grades stable_softmax"
    return f'"""Graders for topic `{TOY_MODULE}`: CONTRIBUTING\'s example."""\n\n' + example.replace(
        "stable_softmax", EXERCISE
    )


def add_toy(root: Path, text: str) -> None:
    """Write the toy topic's files where the recipe says, each path named by the recipe."""
    files = {
        "exercises/<module>.py": STUB,
        "reference/<module>.py": MODEL,
        "reference/<module>_torch.py": COUNTERPART,
        "graders/test_<topic>.py": grader_example(text),
        "mistakes/<module>/<name>.py": WRONG,
        "tests/fixtures/right/<module>/<name>.py": RIGHT,
    }
    for pattern, content in files.items():
        assert f"`{pattern}`" in text, f"the recipe does not name {pattern}"
        path = root / pattern.replace("<module>", TOY_MODULE).replace("<topic>", TOY_MODULE)
        stem = "naive" if pattern.startswith("mistakes/") else "via_logsumexp"
        path = path.with_name(path.name.replace("<name>", stem))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    for header in ("`# loses: exercise[, exercise]`", "`# caught by: exercise: check name`"):
        assert header in text, f"the recipe does not name the header line {header}"
    assert "`[[exercises]]`" in text and "`course.toml`" in text
    with (root / "course.toml").open("a") as manifest:
        manifest.write(MANIFEST)


def copy_with_tests(dest: Path) -> Path:
    """The course and the project's tests (unchanged), as a repository holds them."""
    dest.mkdir()
    course_copy(dest)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DLGRADE_COURSE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1200
    )


@pytest.mark.slow
def test_a_toy_exercise_added_by_the_recipe_passes_dev_check_and_the_generic_tests(tmp_path) -> None:
    root = copy_with_tests(tmp_path / "course")
    text = recipe()
    add_toy(root, text)
    assert "`.venv/bin/grade dev check`" in text
    check = _run(["-m", "dlgrade", "dev", "check"], root)
    assert check.returncode == 0, check.stdout + check.stderr
    topics = len(load_course(ROOT).topics) + 1
    assert f"0 problem(s) in {topics} topics" in check.stdout + check.stderr, check.stdout + check.stderr
    tests = ["tests/test_fixtures.py", "tests/test_reference.py"]
    base = ["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--basetemp", str(tmp_path / "pt")]
    run = _run([*base, *tests, "-k", TOY_MODULE], root)
    assert run.returncode == 0, run.stdout + run.stderr
    passed = set(re.findall(r"^PASSED (\S+)", run.stdout, re.MULTILINE))
    assert passed == {
        f"tests/test_fixtures.py::test_known_wrong_loses_points_where_due[{TOY_MODULE}/naive]",
        f"tests/test_fixtures.py::test_right_but_different_gets_full_marks[{TOY_MODULE}/via_logsumexp]",
        f"tests/test_fixtures.py::test_every_topic_has_fixtures_of_both_kinds[{TOY_MODULE}]",
        f"tests/test_reference.py::test_reference_agrees_with_torch_on_the_graders_cases[{TOY_MODULE}]",
    }, run.stdout
