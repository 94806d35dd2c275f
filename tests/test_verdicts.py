"""Verdicts that blame the right thing: failure kinds, hints only for their kind, messages."""

from __future__ import annotations

import math

import pytest
import torch

from dlgrade.core.manifest import Course
from dlgrade.core.words import fmt_pair
from dlgrade.engine.session import CheckRecord
from dlgrade.kit.checks import HINT_KINDS_DEFAULT, KINDS, CheckFailure, check, expect_close
from dlgrade.kit.relative import expect_rel_close
from tests.support import grade_folder, variant, with_appended

INF = math.inf


def test_infinity_against_a_finite_value_is_not_a_huge_finite_error() -> None:
    got = torch.tensor([-INF, 1.0, 2.5], dtype=torch.float64)
    expected = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    with pytest.raises(CheckFailure) as info:
        expect_close(got, expected)
    assert "1.79769e+308" not in info.value.public
    assert (
        info.value.public
        == "the result: got -inf at [0]; expected 0.5 (2 of 3 elements differ; largest error 0.5)"
    )
    assert info.value.kind == "nonfinite"
    with pytest.raises(CheckFailure) as info:
        expect_close(got[:1], expected[:1])
    assert info.value.public == "the result: got -inf at [0]; expected 0.5 (1 of 1 elements differ)"


def test_a_message_prints_enough_digits_to_show_the_difference() -> None:
    """'got 1.29109 ... expected 1.29109' tells the student nothing: the digits that differ show."""
    assert fmt_pair(1.2910914, 1.2910918) == ("1.2910914", "1.2910918")
    assert fmt_pair(0.5, 0.7) == ("0.5", "0.7")
    assert fmt_pair(1.0, 1.0 + 2**-52) == ("1", "1.0000000000000002")
    assert fmt_pair(math.nan, 1.0) == ("nan", "1")
    got = torch.tensor([1.0, 1.2910914], dtype=torch.float64)
    expected = torch.tensor([1.0, 1.2910918], dtype=torch.float64)
    for compare in (expect_close, expect_rel_close):
        with pytest.raises(CheckFailure) as info:
            compare(got, expected, what="clipped[1]")
        assert "1.2910914" in info.value.public and "1.2910918" in info.value.public, info.value.public


def test_each_comparison_says_what_kind_of_failure_it_is() -> None:
    x = torch.ones(3)
    kinds = []
    for got in (torch.ones(4), torch.ones(3, dtype=torch.float64), [1.0], x + 1, x * INF):
        with pytest.raises(CheckFailure) as info:
            expect_close(got, x)
        kinds.append(info.value.kind)
    assert kinds == ["shape", "dtype", "type", "value", "nonfinite"]
    with pytest.raises(ValueError, match="unknown failure kind"):
        CheckFailure("a", "b", "typo")


def test_a_hint_shows_only_for_the_failures_it_is_about() -> None:
    def record(outcome: str, kind: str, hint_when: tuple[str, ...] = HINT_KINDS_DEFAULT) -> str:
        r = CheckRecord("ex", "name", 1.0, False, "the hint", "node", outcome, hint_when=hint_when, kind=kind)  # type: ignore[arg-type]
        return r.shown_hint

    assert record("failed", "value") == "the hint"
    assert record("failed", "upstream") == ""  # a backward judged on a wrong forward
    assert record("raised", "raised") == ""  # an exception is not what a value hint is about
    assert record("raised", "raised", ("raised",)) == "the hint"
    assert record("failed", "value", ("modified",)) == ""
    assert record("failed", "modified", ("modified",)) == "the hint"
    assert record("timeout", "timeout", KINDS) == ""
    with pytest.raises(ValueError, match="hint_when"):
        check("ex", "name", hint_when=("modifed",))


def test_a_wrong_shaped_result_is_named_by_the_gradient_check(course: Course, tmp_path) -> None:
    v = variant("stability", "keepdim_ignored")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "logsumexp")
    c = next(c for c in result.exercises[0].checks if c.name.startswith("its gradient"))
    assert not c.passed and c.hint == ""
    assert "the result has shape" in c.message and "elements differ" not in c.message, c.message
