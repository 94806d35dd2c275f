"""Every topic's fixture files, found in the files: a known-wrong one loses points exactly where
its header says (tests/support.variants), a right-but-different one gets full marks.

A new topic or exercise adds files only: tests/fixtures/wrong/<module>/ and
tests/fixtures/right/<module>/ (CONTRIBUTING, "Adding an exercise"); nothing here names a
topic. Test ids are <topic>/<file stem>. Messages particular to one topic's feedback stay in
tests/test_grader_<topic>.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from tests.support import FIXTURES, ROOT, Variant, assert_full_marks, assert_loses_only_where_due, variants

COURSE = load_course(ROOT)
TOPIC_OF = {t.module: t.id for t in COURSE.topics}  # module -> topic


def right_but_different() -> list[Path]:
    """Every file under tests/fixtures/right/<module>/: unusual but correct code."""
    return sorted((FIXTURES / "right").glob("*/*.py"))


def _id(module: str, path: Path) -> str:
    return f"{TOPIC_OF.get(module, module)}/{path.stem}"


WRONG = [pytest.param(v, id=_id(v.module, v.path)) for v in variants()]
RIGHT = [pytest.param(p, id=_id(p.parent.name, p)) for p in right_but_different()]


@pytest.mark.parametrize("variant", WRONG)
def test_known_wrong_loses_points_where_due(course: Course, variant: Variant, tmp_path: Path) -> None:
    assert variant.module in TOPIC_OF, f"{variant.path}: no topic has module {variant.module!r}"
    assert_loses_only_where_due(course, variant, TOPIC_OF[variant.module], tmp_path)


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
