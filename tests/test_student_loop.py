"""The student's loop as a student drives it: did-you-mean, hint tiers, progress, reset.

Run with the `grade` command (CliRunner) in a real student bundle (`grade release`) and in a
copy of the course; state lives in .dlgrade/ beside the exercises.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, ManifestError, load_course
from tests.courses import course_copy
from tests.shared import Shared
from tests.support import ROOT, variant


@pytest.fixture(scope="module")
def bundle(course: Course, shared: Shared) -> Path:
    return shared.bundle(course)  # built once a session; each test works on a copy (`student`)


@pytest.fixture
def student(bundle: Path, tmp_path: Path) -> Path:
    """A fresh copy of the bundle for one test (its exercises and .dlgrade/ change)."""
    return Path(shutil.copytree(bundle, tmp_path / "bundle"))


def grade(where: Path, *args: str, stdin: str | None = None) -> Result:
    here = Path.cwd()
    os.chdir(where)
    try:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    finally:
        os.chdir(here)


def functions(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    return {n.name: ast.unparse(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_unknown_names_suggest_the_closest(student: Path) -> None:
    for args in (
        ["stable_sofmax"],
        ["hint", "stable_sofmax"],
        ["reset", "logsumexpp"],
        ["watch", "stabilty"],
    ):
        result = grade(student, *args)
        assert result.exit_code == 2, args
        assert re.search(r"did you mean '(stable_softmax|logsumexp|stability)'", result.stderr), result.stderr
    far = grade(student, "zzzz")
    assert far.exit_code == 2 and "did you mean" not in far.stderr


def test_hint_tiers_open_one_at_a_time_and_the_result_counts_them(student: Path) -> None:
    tiers = load_course(student).exercise("stable_softmax").hints
    assert len(tiers) == 3
    shown = [grade(student, "hint", "stable_softmax").stdout for _ in range(4)]
    for n, out in enumerate(shown[:3]):
        assert out.strip() == f"stable_softmax hint {n + 1}/3: {tiers[n]}"
    assert tiers[2] in shown[3]  # all open: the last tier again
    assert json.loads((student / ".dlgrade" / "hints.json").read_text()) == {"stable_softmax": 3}
    doc = json.loads(grade(student, "stability", "--format", "json").stdout)
    opened = {e["id"]: e["hints_opened"] for e in doc["exercises"]}
    assert opened == {e["id"]: 3 if e["id"] == "stable_softmax" else 0 for e in doc["exercises"]}
    assert len(opened) == len(load_course(student).topic("stability").exercises)
    table = grade(student, "stable_softmax").stdout  # not started: the status row and why only
    assert "not started" in table and "grade hint" not in table
    assert not any(tier in table for tier in tiers)
    module = student / "exercises" / "stability.py"
    naive = variant("stability", "naive_softmax")
    module.write_text(module.read_text() + "\n\n" + naive.path.read_text())
    table = grade(student, "stable_softmax").stdout  # failing: one line pointing to `grade hint`
    assert "partial" in table or "failed" in table
    assert "    hint: `grade hint stable_softmax` (3 tiers)\n" in table
    assert not any(tier in table for tier in tiers)


def test_an_exercise_without_tiers_has_its_hint_as_the_only_tier(tmp_path: Path) -> None:
    root = course_copy(tmp_path)
    toml = root / "course.toml"
    text = toml.read_text()
    block = re.search(r'id = "logsumexp".*?\nhints = \[.*?\n\]\n', text, re.DOTALL)
    assert block is not None
    toml.write_text(
        text.replace(block.group(0), re.sub(r"\nhints = \[.*?\n\]", "", block.group(0), flags=re.DOTALL))
    )
    e = load_course(root).exercise("logsumexp")
    assert e.hints == (e.hint,)
    toml.write_text(toml.read_text().replace('id = "logsumexp"', 'id = "logsumexp"\nhints = "one"', 1))
    with pytest.raises(ManifestError, match="hints"):
        load_course(root)


def test_list_shows_last_results_topic_totals_and_what_next(tmp_path: Path) -> None:
    root = course_copy(tmp_path)
    before = grade(root, "list").stdout
    assert "Next: logsumexp in exercises/stability.py" in before
    shutil.copy(root / "reference" / "stability.py", root / "exercises" / "stability.py")
    assert grade(root, "stability").exit_code == 0
    shutil.copy(root / "reference" / "tensors.py", root / "exercises" / "tensors.py")
    (root / "exercises" / "tensors.py").write_text(
        (root / "exercises" / "tensors.py").read_text().replace("x.mean(dim=(2, 3))", "x.mean(dim=(1, 2))")
    )
    assert grade(root, "tensors").exit_code == 0
    listed = grade(root, "list").stdout
    points = f"{load_course(root).topic('stability').points:g}"
    assert re.search(rf"^stability — .* {points}/{points}$", listed, re.MULTILINE)
    assert re.search(r"^\s+logsumexp\s+✓ passed\s+5/5 ", listed, re.MULTILINE)
    assert re.search(r"^\s+spatial_mean\s+✗ failed\s+0/\d ", listed, re.MULTILINE)
    assert re.search(r"^\s+collapse_linear\s+· not started\s+-/5 ", listed, re.MULTILINE)
    assert "Next: collapse_linear in exercises/xor.py" in listed


def test_reset_restores_one_function_and_keeps_a_backup(student: Path) -> None:
    stub = (student / "stubs" / "stability.py").read_text()
    reference = functions((ROOT / "reference" / "stability.py").read_text())
    mine = student / "exercises" / "stability.py"
    edited = (ROOT / "reference" / "stability.py").read_text() + "\n\ndef my_helper(x):\n    return x\n"
    mine.write_text(edited)
    result = grade(student, "reset", "logsumexp")
    assert result.exit_code == 0, result.output
    now = functions(mine.read_text())
    assert now["logsumexp"] == functions(stub)["logsumexp"]
    assert now["stable_softmax"] == reference["stable_softmax"]
    assert "my_helper" in now
    (backup,) = (student / ".dlgrade" / "backup").iterdir()
    assert backup.read_text() == edited and backup.name.startswith("stability-")
    assert "saved your version as .dlgrade/backup/stability-" in result.stdout


def test_reset_all_asks_first_and_restores_the_module(student: Path) -> None:
    mine = student / "exercises" / "stability.py"
    mine.write_text("def logsumexp(x, dim=-1, keepdim=False):\n    return x +\n")  # mid-edit
    one = grade(student, "reset", "logsumexp")
    assert one.exit_code == 2 and "syntax error at line 2" in one.stderr and "--all" in one.stderr
    refused = grade(student, "reset", "stability", "--all", stdin="n\n")
    assert refused.exit_code == 1 and mine.read_text().endswith("x +\n")
    done = grade(student, "reset", "stability", "--all", stdin="y\n")
    assert done.exit_code == 0
    assert mine.read_text() == (student / "stubs" / "stability.py").read_text()
    assert len(list((student / ".dlgrade" / "backup").iterdir())) == 1


def test_reset_in_the_course_source_is_a_usage_error(tmp_path: Path) -> None:
    result = grade(course_copy(tmp_path), "reset", "logsumexp")
    assert result.exit_code == 2 and "student bundle" in result.stderr
