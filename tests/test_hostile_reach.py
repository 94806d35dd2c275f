"""Hostile submissions that reach past the rules (wrapped originals, guard state, C entry
points, names built at run time, softmax in disguise, arithmetic beside einsum): each is
caught by the layer its `# caught:` line names, and its exercise scores nothing."""

from __future__ import annotations

import re

import pytest

from dlgrade.core.manifest import Course
from dlgrade.engine.runner import grade
from tests.support import hostiles, with_appended

_CAUGHT = re.compile(r"^# caught: (.+)$", re.MULTILINE)
CAUGHT = [(h, m.group(1)) for h in hostiles() if (m := _CAUGHT.search(h.path.read_text()))]


@pytest.mark.parametrize(("hostile", "caught"), CAUGHT, ids=[h.id for h, _ in CAUGHT])
def test_caught_by_the_layer_named(course: Course, hostile, caught: str, tmp_path) -> None:
    folder = with_appended(course, hostile.module, hostile.path, tmp_path / "sub")
    target = next(ex for ex, status in hostile.expect.items() if status != "passed")  # the one it attacks
    result = grade(course, folder, [target])
    ex = result.exercises[0]
    assert (ex.status, ex.score) == ("error", 0), ex
    assert caught in ex.message, ex.message
    assert f"{hostile.module}.py:" in ex.message  # the line is named
    assert all(c.outcome == "forbidden" for c in ex.checks if not c.passed)


def test_every_bypass_class_has_a_fixture() -> None:
    layers = {
        "static rule": "uses ",
        "names in strings": "by name",
        # a name built at run time is refused before it runs: the run-time look-up guard
        # behind it is proven in tests/test_guards.py
        "names built at run time": "builds a name at run time",
        "raw memory": "reaches raw memory",
        "threads": "starts threads",
        "run-time call guard": "which this exercise forbids",
        "tensor arithmetic": "outside einsum",
    }
    for layer, text in layers.items():
        assert any(text in c for _h, c in CAUGHT), layer
