"""The recorded hypothesis draws (draws.json) are hypothesis's own, and cover the graders."""

from __future__ import annotations

import json

import pytest

from dlgrade.core.manifest import Course
from dlgrade.dev.check import grading_problems
from dlgrade.kit import cases, draws


def test_every_recorded_draw_is_what_hypothesis_draws_now() -> None:
    table = draws.recorded()
    assert len(table) >= 10, "draws.json is missing or from another hypothesis version"
    for key, recorded in table.items():
        assert cases.draw_sizes(*key) == recorded, key


def test_grading_the_course_asks_only_for_recorded_draws(course: Course) -> None:
    draws.asked.clear()
    problems = grading_problems(course)
    assert draws.asked, "no grader asked for a draw: this test proves nothing"
    assert draws.missing() == []
    assert [p for p in problems if p.where == "draws.json"] == []


@pytest.fixture
def table_at(tmp_path, monkeypatch):
    def use(text: str | None):
        path = tmp_path / "draws.json"
        if text is not None:
            path.write_text(text)
        monkeypatch.setattr(draws, "TABLE", path)
        draws.recorded.cache_clear()
        return path

    yield use
    draws.recorded.cache_clear()


def test_without_the_table_sizes_are_drawn_live_and_equal(table_at) -> None:
    with_table = cases.sizes("bij", 4, seed=cases.seed_for("test_draws"))
    table_at(None)
    assert draws.recorded() == {}
    assert cases.sizes("bij", 4, seed=cases.seed_for("test_draws")) == with_table


def test_a_table_from_another_hypothesis_version_is_ignored(table_at) -> None:
    key = (2, 6, 7, 2, 8)
    table_at(json.dumps({"hypothesis": "0.0.1", "draws": {"2,6,7,2,8": [[2, 2]]}}))
    assert draws.recorded() == {}
    assert cases._sizes(*key) == cases.draw_sizes(*key)
    table_at(json.dumps({"hypothesis": draws.hypothesis_version(), "draws": {"2,6,7,2,8": [[2, 3]]}}))
    assert cases._sizes(*key) == ((2, 3),)  # the table is what grading reads; test 1 keeps it honest


def test_dev_check_reports_unrecorded_draws(course: Course, table_at) -> None:
    table_at(json.dumps({"hypothesis": draws.hypothesis_version(), "draws": {}}))
    problems = [p for p in grading_problems(course) if p.where == "draws.json"]
    assert len(problems) == 1 and "grade dev draws" in problems[0].message
