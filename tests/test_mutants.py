"""`grade dev mutants`: cosmic-ray's mutants of the model solutions, each graded as a submission,
on a small fixed sample (so the tool cannot rot), and the reviewed equivalents file."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, load_course
from dlgrade.dev.mutants import (
    EQUIVALENTS_FILE,
    MutantsError,
    _grade_mutant,
    load_equivalents,
    mutants_of,
    run,
    sample,
)
from tests.support import ROOT


def test_mutants_are_single_changes_of_the_model_solution(course: Course) -> None:
    found = mutants_of(course, "tensors")
    original = (course.reference_dir() / "tensors.py").read_text()
    assert len(found) > 10 and len({m.key for m in found}) > 10
    for m in found:
        assert m.source != original and m.line > 0 and m.before != m.after
        compile(m.source, m.key, "exec")
    assert {m.operator.split("_")[0] for m in found} >= {"core/ReplaceBinaryOperator", "core/NumberReplacer"}


def test_a_mutant_is_killed_by_lost_points_and_the_unchanged_code_survives(course: Course) -> None:
    flips = "core/ReplaceBinaryOperator_Div_Mul"  # (x - mean) * sqrt(var + eps)
    mutant = next(m for m in mutants_of(course, "tensors") if m.operator == flips)
    verdict = _grade_mutant(str(ROOT), mutant)
    assert verdict.killed and verdict.detail != "full marks", verdict
    unchanged = dataclasses.replace(mutant, source=(course.reference_dir() / "tensors.py").read_text())
    assert not _grade_mutant(str(ROOT), unchanged).killed


# Slow tier: the dev command grades einsum's model solutions and two mutants; the grading of
# a mutant (killed by lost points, the unchanged code surviving) is proven in the fast tier above.
@pytest.mark.slow
def test_a_fixed_sample_through_the_command(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    done = CliRunner().invoke(main, ["dev", "mutants", "einsum", "--sample", "2", "--seed", "1"])
    assert done.exit_code == 0, done.output
    line = next(x for x in done.stdout.splitlines() if x.startswith("einsum"))
    assert "% killed" in line and "/2" in line, done.stdout
    bad = CliRunner().invoke(main, ["dev", "mutants", "no_such_topic"])
    assert bad.exit_code == 2 and "no topic 'no_such_topic'" in bad.output


@pytest.mark.slow  # about a minute: every reviewed topic's mutants generated
def test_the_reviewed_equivalents_name_mutants_that_exist(course: Course) -> None:
    equivalents = load_equivalents(course)
    assert (ROOT / EQUIVALENTS_FILE).is_file()
    modules = {key.split(":")[0] for key in equivalents}
    keys = {m.key for t in course.topics if t.module in modules for m in mutants_of(course, t.id)}
    assert [k for k in equivalents if k not in keys] == [], "an accepted equivalent no longer exists"


def _course_copy(tmp_path: Path) -> Course:
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return load_course(tmp_path)


def test_an_equivalent_mutant_is_left_out_and_needs_a_reason(tmp_path: Path) -> None:
    course = _course_copy(tmp_path)
    (first,) = sample(mutants_of(course, "tensors"), 1, seed=0)
    entry = f"[[equivalent]]\nmutant = {json.dumps(first.key)}\nreason = %s\n"
    (tmp_path / EQUIVALENTS_FILE).write_text(entry % '"behaves the same"')
    (score,) = run(course, ["tensors"], per_topic=1, seed=0)  # the sample of one is `first`
    assert (score.equivalent, score.total) == (1, 0)
    (tmp_path / EQUIVALENTS_FILE).write_text(entry % '" "')
    with pytest.raises(MutantsError, match="without a reason"):
        load_equivalents(course)
