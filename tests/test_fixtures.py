"""Every topic's fixture files, found in the files: a known-wrong one loses points exactly where
its header says (tests/support.variants), a right-but-different one gets full marks.

A new topic or exercise adds files only: tests/fixtures/wrong/<module>/ and
tests/fixtures/right/<module>/ (CONTRIBUTING, "Adding an exercise"); nothing here names a
topic. Test ids are <topic>/<file stem>. Messages particular to one topic's feedback stay in
tests/test_grader_<topic>.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import ExerciseResult
from tests.rounds import ROUNDS, graded_round, round_folder, round_of, round_topics
from tests.shared import Shared
from tests.support import (
    FIXTURES,
    ROOT,
    Variant,
    assert_full_marks,
    assert_graded_as_due,
    grade_folder,
    variants,
    with_appended,
)

COURSE = load_course(ROOT)
TOPIC_OF = {t.module: t.id for t in COURSE.topics}  # module -> topic


def right_but_different() -> list[Path]:
    """Every file under tests/fixtures/right/<module>/: unusual but correct code."""
    return sorted((FIXTURES / "right").glob("*/*.py"))


def _id(module: str, path: Path) -> str:
    return f"{TOPIC_OF.get(module, module)}/{path.stem}"


# In round order (tests/rounds.py): xdist gives each worker a contiguous share, so the workers
# grade different rounds instead of waiting on each other for the same one.
WRONG = [pytest.param(v, id=_id(v.module, v.path)) for v in sorted(variants(), key=round_of)]
RIGHT = [pytest.param(p, id=_id(p.parent.name, p)) for p in right_but_different()]


@pytest.mark.parametrize("variant", WRONG)
def test_known_wrong_loses_points_where_due(course: Course, variant: Variant, shared: Shared) -> None:
    """Graded in its round (tests/rounds.py: one file per module, graded once a session for
    every file of the round); the verdicts of its topic are its file's alone."""
    assert variant.module in TOPIC_OF, f"{variant.path}: no topic has module {variant.module!r}"
    result = graded_round(shared, course, round_of(variant))
    assert_graded_as_due(course, variant, TOPIC_OF[variant.module], result)


def test_no_module_imports_another(course: Course) -> None:
    """What grading the known mistakes in rounds rests on: no model solution or known-wrong
    file imports another exercise module, so each module's verdicts are its own file's."""
    own_module = {course.reference_dir() / f"{m}.py": m for m in course.modules}
    own_module |= {v.path: v.module for v in variants()}
    found = []
    for path, own in own_module.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in set(course.modules) - {own}]
    assert found == []


def test_the_rounds_hold_every_known_mistake_once_and_one_per_module() -> None:
    assert sorted(v.path for r in ROUNDS for v in r) == sorted(v.path for v in variants())
    assert all(len({v.module for v in r}) == len(r) for r in ROUNDS)


def test_the_files_of_a_round_alone_get_the_verdicts_of_their_round(course: Course, tmp_path: Path) -> None:
    """Each file of the first round graded alone (as a student would hand it in) gets what its
    header says and exactly what its round gave its topic: the round's other files change
    nothing. Both gradings in this process: a file that draws from the global RNG shows numbers
    that depend on the grading process's history."""
    whole = grade_folder(course, round_folder(course, 0, tmp_path / "round"), *round_topics(course, 0))
    for variant in ROUNDS[0]:
        topic = TOPIC_OF[variant.module]
        folder = with_appended(course, variant.module, variant.path, tmp_path / variant.module)
        alone = grade_folder(course, folder, topic)
        assert_graded_as_due(course, variant, topic, alone)
        ids = {e.id for e in course.topic(topic).exercises}
        in_round = [verdicts(e) for e in whole.exercises if e.id in ids]
        assert [verdicts(e) for e in alone.exercises] == in_round, variant.id


def verdicts(e: ExerciseResult) -> tuple[object, ...]:
    return (e.id, e.status, e.score, tuple((c.name, c.passed, c.score, c.message, c.hint) for c in e.checks))


@pytest.mark.parametrize("path", RIGHT)
def test_right_but_different_gets_full_marks(course: Course, path: Path, tmp_path: Path) -> None:
    module = path.parent.name
    assert module in TOPIC_OF, f"{path}: no topic has module {module!r}"
    assert_full_marks(course, module, path, TOPIC_OF[module], tmp_path)


@pytest.mark.parametrize("topic", [t.id for t in COURSE.topics])
def test_every_topic_has_fixtures_of_both_kinds(course: Course, topic: str) -> None:
    """At least one known-wrong and one right-but-different file per topic."""
    module = course.topic(topic).module
    assert [v for v in variants(module)], (
        f"no known-wrong file for {module} (CONTRIBUTING, Adding an exercise)"
    )
    assert [p for p in right_but_different() if p.parent.name == module], (
        f"no right-but-different file for {module} (tests/fixtures/right/{module}/)"
    )
