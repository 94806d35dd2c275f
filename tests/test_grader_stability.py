"""The `stability` graders' messages (tests/test_fixtures.py runs the known-wrong files)."""

from __future__ import annotations

import re

from dlgrade.core.manifest import Course
from tests.support import (
    grade_folder,
    variant,
    with_appended,
)


def test_failed_public_check_says_what_went_wrong(course: Course, tmp_path) -> None:
    v = variant("stability", "naive_softmax")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "stable_softmax")
    check = next(c for c in result.exercises[0].checks if c.name == "large logits stay finite")
    assert not check.passed
    assert "large magnitudes" in check.message and "got nan at" in check.message
    assert "expected 0" in check.message
    assert "subtract the max" in check.hint


def test_hidden_checks_never_show_inputs(course: Course, tmp_path) -> None:
    v = variant("stability", "naive_softmax")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "stable_softmax")
    hidden = [c for c in result.exercises[0].checks if c.visibility == "hidden"]
    assert hidden and any(not c.passed for c in hidden)
    for c in hidden:
        assert not re.search(r"\[|shape|dim=|float\d\d|tensor|\d\.\d|\d+ of \d+", c.message), c.message
        assert c.hint == ""


def test_forbidden_call_names_the_call_and_the_line(course: Course, tmp_path) -> None:
    v = variant("stability", "forbidden_builtin")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "stable_softmax")
    ex = result.exercises[0]
    assert (ex.status, ex.score) == ("error", 0)
    assert "torch.softmax" in ex.message
    assert "stability.py:" in ex.message


def test_same_code_same_score(course: Course, tmp_path) -> None:
    v = variant("stability", "max_wrong_dim")
    folder = with_appended(course, v.module, v.path, tmp_path)
    first = grade_folder(course, folder, "stability").to_dict()
    again = grade_folder(course, folder, "stable_softmax", "logsumexp").to_dict()
    by_id = {e["id"]: e for e in first["exercises"]}
    for e in again["exercises"]:
        assert e == by_id[e["id"]]


def test_clip_builtin_is_forbidden_and_named(course: Course, tmp_path) -> None:
    v = variant("stability", "clip_builtin")
    ex = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "clip_grad_norm").exercises[
        0
    ]
    assert (ex.status, ex.score) == ("error", 0)
    assert "clip_grad_norm_" in ex.message and "stability.py:" in ex.message


def test_total_norm_as_a_tensor_is_told_to_use_item(course: Course, tmp_path) -> None:
    v = variant("stability", "clip_norm_as_tensor")
    ex = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "clip_grad_norm").exercises[
        0
    ]
    check = next(c for c in ex.checks if c.name.startswith("one norm"))
    assert "total_norm should be a float" in check.message and ".item()" in check.message
