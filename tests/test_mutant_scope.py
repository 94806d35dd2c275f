"""What a mutant is graded on (dlgrade.dev.mutant_scope): the exercises that can run its line."""

from __future__ import annotations

import dataclasses

from dlgrade.core.manifest import Course
from dlgrade.dev.mutant_scope import dependents, enclosing, scope
from dlgrade.dev.mutants import _grade_mutant, _observed, given_lines, graded_on, mutants_of
from tests.support import ROOT

SOURCE = """import torch

SCALE = 2.0
UNUSED = 3.0


def _helper(x):
    return x * SCALE


def forward(x):
    return _helper(x) + 1


def backward(dout, cache):
    return dout


def other(x):
    return x
"""
ALIASED = SOURCE + "\nfor f in (other,):\n    f.__doc__ = 'x'\n"  # module-level code using one


def test_the_unit_holding_a_line_and_what_refers_to_it() -> None:
    assert enclosing(SOURCE, 8) == "_helper" and enclosing(SOURCE, 3) == "SCALE"
    assert enclosing(SOURCE, 1) is None  # the import: module-level code
    assert dependents(SOURCE, "_helper") == {"_helper", "forward"}
    assert dependents(SOURCE, "SCALE") == {"SCALE", "_helper", "forward"}
    assert dependents(SOURCE + "\nTABLE = {'f': other}\n", "other") == {"other", "TABLE"}
    assert dependents(ALIASED, "other") is None  # module-level code refers to it: anything may


def test_a_scope_is_every_exercise_whose_checks_reach_the_line() -> None:
    exercises = ["other", "forward", "backward"]
    observed = {"forward": frozenset({"forward"}), "backward": frozenset({"backward", "forward"})}
    observed["other"] = frozenset({"other"})
    # a backward's checks call its forward: a mutant of the forward's helper is graded on both
    assert scope(SOURCE, 8, exercises, observed) == ["forward", "backward"]
    assert scope(SOURCE, 12, exercises, observed) == ["forward", "backward"]
    assert scope(SOURCE, 20, exercises, observed) == ["other"]
    assert scope(SOURCE, 1, exercises, observed) == exercises  # an import: the whole module
    assert scope(SOURCE, 4, exercises, observed) == exercises  # reached by nothing: the whole module
    assert scope(ALIASED, 20, exercises, observed) == exercises
    unknown = {k: v for k, v in observed.items() if k != "other"}  # never observed: always graded
    assert scope(SOURCE, 16, exercises, unknown) == ["backward", "other"]


def test_observed_calls_and_a_scoped_kill_on_the_real_course(course: Course) -> None:
    observed = _observed(str(ROOT), "layers")
    assert observed["affine_backward"] == {"affine_backward", "affine_forward"}
    assert observed["affine_forward"] == {"affine_forward"}
    source = (course.reference_dir() / "layers.py").read_text()
    mutant = next(m for m in mutants_of(course, "layers") if enclosing(source, m.line) == "affine_forward")
    assert graded_on(course, mutant, observed) == ["affine_forward", "affine_backward"]
    verdict = _grade_mutant(str(ROOT), mutant, ["affine_forward", "affine_backward"])
    assert verdict.killed and verdict.detail.startswith("affine_"), verdict
    unchanged = dataclasses.replace(mutant, source=source)
    assert not _grade_mutant(str(ROOT), unchanged, ["affine_forward", "affine_backward"]).killed


def test_given_constants_and_functions_are_not_mutated(course: Course) -> None:
    head = "import torch\n\nX = [0, 1]\n"
    given = "\n\ndef given(x):\n    return x\n\n\ndef mine(x):\n"
    reference = head + "K = 8\n" + given + "    return x + K\n"
    assert given_lines(reference, head + given + "    raise NotImplementedError\n") == {1, 3, 7, 8}
    ref, stub = (d / "xor.py" for d in (course.reference_dir(), course.exercises_dir()))
    lines = ref.read_text().splitlines()
    skipped = [lines[i - 1] for i in given_lines(ref.read_text(), stub.read_text())]
    assert any(x.startswith("X = ") for x in skipped) and any(x.startswith("Y = ") for x in skipped)
