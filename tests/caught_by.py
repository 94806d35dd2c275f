"""`# caught by:` lines of known-wrong fixtures: the checks that must fail on them.

A line reads `# caught by: exercise: check name; exercise: check name`. The wave-2 topics'
fixtures carry one beside their `# loses:` line; `assert_caught_where_declared` grades the
fixture and asserts that every check named there failed.
"""

from __future__ import annotations

import re
from pathlib import Path

from dlgrade.manifest import Course
from tests.support import Variant, grade_folder, with_appended

_CAUGHT = re.compile(r"^# caught by:\s*(.+)$", re.MULTILINE)


def caught_by(path: Path) -> list[tuple[str, str]]:
    """(exercise, check name) pairs from a fixture's `# caught by:` line."""
    found = _CAUGHT.search(path.read_text())
    if found is None:
        raise ValueError(f"{path}: needs a '# caught by: exercise: check; ...' line")
    pairs = [item.strip().split(": ", 1) for item in found.group(1).split(";")]
    return [(ex.strip(), name.strip()) for ex, name in pairs]


def assert_caught_where_declared(course: Course, variant: Variant, topic: str, tmp_path: Path) -> None:
    """The fixture loses points on the exercises of its `# loses:` line and nowhere else in
    `topic`, and every check its `# caught by:` line names fails."""
    folder = with_appended(course, variant.module, variant.path, tmp_path / "sub")
    result = grade_folder(course, folder, topic)
    assert result.internal_errors == ()
    checks = {(e.id, c.name): c for e in result.exercises for c in e.checks}
    for e in result.exercises:
        if e.id in variant.loses:
            assert e.score < e.max_score, f"{e.id} should lose points ({e.status})"
        else:
            assert (e.status, e.score) == ("passed", e.max_score), f"{e.id} should be untouched"
    for key in caught_by(variant.path):
        assert key in checks, f"no check {key} in topic {topic}"
        assert not checks[key].passed, f"{key} should fail on {variant.id}"
