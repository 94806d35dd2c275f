"""The manifest: one declaration, validated with one-line errors."""

from __future__ import annotations

import pytest

from dlgrade.core.manifest import Course, ManifestError, find_course_root, load_course
from tests.support import ROOT

MINIMAL = """
schema_version = 1
title = "t"
[rules.r]
why = "because"
calls = ["torch.softmax"]
[[topics]]
id = "topic_a"
title = "A"
rules = ["r"]
[[exercises]]
id = "ex_one"
topic = "topic_a"
points = 2
hint = "do it"
"""


def write(tmp_path, text: str) -> Course:
    (tmp_path / "course.toml").write_text(text)
    return load_course(tmp_path)


def write_with(tmp_path, change: tuple[str, str]) -> Course:
    old, new = change
    text = MINIMAL + new if old == "" else MINIMAL.replace(old, new)
    (tmp_path / "course.toml").write_text(text)
    return load_course(tmp_path)


def test_bundled_course_loads_in_learning_order(course: Course) -> None:
    assert course.topics[0].id == "stability"
    assert [e.id for e in course.topics[0].exercises] == [
        "logsumexp",
        "stable_softmax",
        "log_softmax",
        "clip_grad_norm",
    ]
    assert course.select(["stability"]) == course.topics[0].exercises
    assert course.select(["log_softmax", "logsumexp"]) == (
        course.exercise("logsumexp"),
        course.exercise("log_softmax"),
    )
    assert "torch.softmax" in course.exercise("stable_softmax").rules.forbidden_calls()


def test_minimal_course_and_derived_paths(tmp_path) -> None:
    course = write(tmp_path, MINIMAL)
    e = course.exercise("ex_one")
    assert (e.module, e.points, e.time_limit) == ("topic_a", 2.0, 10.0)
    assert course.grader_path("topic_a") == tmp_path.resolve() / "graders" / "test_topic_a.py"
    (tmp_path / "x" / "y").mkdir(parents=True)
    assert find_course_root(tmp_path / "x" / "y") == tmp_path.resolve()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('hint = "do it"', 'hint = ""'), "empty hint"),
        (('id = "ex_one"', 'id = "topic_a"'), "declared twice"),
        (('id = "ex_one"', 'id = "list"'), "grade command name"),
        (('rules = ["r"]', 'rules = ["nope"]'), "unknown rule set 'nope'"),
        (("points = 2", "points = 0"), "points must be positive"),
        (('why = "because"', 'why = ""'), "`why`"),
        (("schema_version = 1", "schema_version = 2"), "schema_version"),
        (
            ("", '[[exercises]]\nid = "ex_two"\ntopic = "elsewhere"\npoints = 1\nhint = "h"\n'),
            "unknown topic",
        ),
        (('id = "ex_one"', 'id = "Ex-One"'), "lower_snake_case"),
    ],
)
def test_bad_manifests_get_one_line_errors(tmp_path, change, message) -> None:
    with pytest.raises(ManifestError) as info:
        write_with(tmp_path, change)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_not_toml_and_no_course(tmp_path) -> None:
    with pytest.raises(ManifestError, match="not valid TOML"):
        write(tmp_path, "schema_version = = 1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "course.toml").unlink()
    with pytest.raises(ManifestError, match=r"no course\.toml"):
        find_course_root(elsewhere)


def test_unknown_selection_names_the_topics(course: Course) -> None:
    with pytest.raises(ManifestError, match="unknown topic or exercise 'softmaxx'"):
        course.select(["softmaxx"])


def test_root_is_found_from_a_subfolder() -> None:
    assert find_course_root(ROOT / "graders") == ROOT
