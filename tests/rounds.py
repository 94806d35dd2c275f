"""The known mistakes graded in rounds, each round once a session for every test that asks.

Each exercise is graded in its own worker on its own module, so a submission holding one
known-wrong file per module gives every exercise the verdicts that file alone would get
(no model solution or known mistake imports another module: `test_no_module_imports_another`
in tests/test_fixtures.py keeps that true). The i-th round holds the i-th file of each module;
only the topics of its modules are graded (the other modules are the model solutions, graded
as such by the `reference` gradings). tests/test_fixtures.py asserts each file's header on its
round's instructor grading, made once a session (`graded_round`); tests/test_release.py
grades the same rounds in the student bundle against that instructor grading, except for a
round holding a file that draws from the global RNG (tests/global_rng.py): its numbers depend
on the grading process's history, so both sides of such a round are graded in one process.
"""

from __future__ import annotations

from pathlib import Path

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.runner import grade
from tests.global_rng import file_draws_from_global_rng
from tests.shared import Shared, _tag
from tests.support import Variant, append, reference_copy, variants


def _rounds() -> list[list[Variant]]:
    by_module: dict[str, list[Variant]] = {}
    for v in variants():
        by_module.setdefault(v.module, []).append(v)
    most = max(len(vs) for vs in by_module.values())
    return [[vs[i] for vs in by_module.values() if i < len(vs)] for i in range(most)]


ROUNDS = _rounds()


def round_of(variant: Variant) -> int:
    """The index of the round that holds `variant`."""
    return next(i for i, r in enumerate(ROUNDS) if variant in r)


def round_topics(course: Course, index: int) -> list[str]:
    """The topics whose modules the round's files replace, in course order."""
    modules = {v.module for v in ROUNDS[index]}
    return [t.id for t in course.topics if t.module in modules]


def round_folder(course: Course, index: int, dest: Path) -> Path:
    """The model solutions with the round's files appended, one per module."""
    folder = reference_copy(course, dest)
    for v in ROUNDS[index]:
        append(course, folder / f"{v.module}.py", v.path)
    return folder


def graded_round(shared: Shared, course: Course, index: int) -> GradeResult:
    """The instructor's grading of round `index` (its topics), made once a session."""
    key = f"round-{_tag(course)}-{index}"

    def make() -> GradeResult:
        folder = round_folder(course, index, shared.folder / f"{key}-submission")
        return grade(course, folder, round_topics(course, index))

    return shared.get(key, make)


def round_draws_from_global_rng(index: int) -> bool:
    """Whether a file of round `index` may draw from the global RNG (tests/global_rng.py)."""
    return any(file_draws_from_global_rng(v.path) for v in ROUNDS[index])
