"""The relative-error helpers and the backward-pass check bodies, alone."""

from __future__ import annotations

import math
import types

import pytest
import torch

from dlgrade.core.calls import Raised
from dlgrade.core.codec import Opaque
from dlgrade.core.manifest import Course
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.runner import grade
from dlgrade.kit.backprop import Layer, judged_on_own_forward, numeric_gradient, opaque_part
from dlgrade.kit.cases import Case
from dlgrade.kit.checks import CheckFailure, shape_words
from dlgrade.kit.relative import expect_rel_close, rel_error, sci
from dlgrade.sandbox import guards

F64 = torch.float64


def test_rel_error_is_symmetric_relative_and_nan_aware() -> None:
    got = torch.tensor([1.0, math.nan, math.inf, 0.0, 1e-20, math.inf, 2.0], dtype=F64)
    expected = torch.tensor([3.0, 1.0, 1.0, 0.0, 0.0, math.inf, math.nan], dtype=F64)
    err = rel_error(got, expected).tolist()
    assert err[0] == pytest.approx(0.5)  # |1 - 3| / (1 + 3)
    assert err[1] == err[2] == err[6] == math.inf
    assert err[3] == err[5] == 0.0
    assert err[4] < 1e-13  # a zero up to rounding is judged against the tensor's scale (3)


def test_shapes_are_named_only_when_unambiguous() -> None:
    assert shape_words((3, 5), {"N": 3, "D": 5}) == "(N, D) = (3, 5)"
    assert shape_words((5,), {"N": 3, "D": 5}) == "(D,) = (5,)"
    assert shape_words((3, 3), {"N": 3, "D": 3}) == "(3, 3)"
    assert shape_words((3, 7), {"N": 3, "D": 5}) == "(3, 7)"
    assert shape_words((3, 5)) == "(3, 5)"
    assert [sci(x) for x in (0.3, 4.25e-8, 1.0, math.inf)] == ["3e-1", "4.2e-8", "1e0", "inf"]


def test_rel_close_message_names_the_largest_error_and_where() -> None:
    expected = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=F64)
    got = expected.clone()
    got[4] = 7.0
    got[1] = 2.0 + 1e-12
    with pytest.raises(CheckFailure) as info:
        expect_rel_close(got, expected, case="a case", what="dgamma")
    assert info.value.public == (
        "a case: dgamma: rel. error 1.7e-1 at index 4; got 7, expected 5 (a correct dgamma is within 1e-7)"
    )
    assert info.value.hidden == "dgamma differs from the expected values"
    expect_rel_close(got[:4], expected[:4], what="dgamma")  # 2.5e-13 is rounding: passes


def test_rel_close_checks_shape_dtype_and_type_first() -> None:
    dims = {"N": 3, "D": 5}
    with pytest.raises(CheckFailure, match=r"dgamma has shape \(N, D\) = \(3, 5\); expected \(D,\) = \(5,\)"):
        expect_rel_close(torch.ones(3, 5, dtype=F64), torch.ones(5, dtype=F64), what="dgamma", dims=dims)
    with pytest.raises(CheckFailure, match="dtype float32; expected float64"):
        expect_rel_close(torch.ones(5), torch.ones(5, dtype=F64), what="dx")
    with pytest.raises(CheckFailure, match=r"should be a torch\.Tensor; got a list of 5"):
        expect_rel_close([1.0] * 5, torch.ones(5, dtype=F64), what="dx")


def test_float32_is_judged_more_loosely_than_float64() -> None:
    expected = torch.tensor([1.0, -2.0], dtype=torch.float32)
    expect_rel_close(expected * (1 + 1e-4), expected)
    with pytest.raises(CheckFailure):
        expect_rel_close(expected.double() * (1 + 1e-4), expected.double())


def test_opaque_parts_of_a_cache_are_found_anywhere() -> None:
    assert opaque_part((torch.ones(2), [1, 2.0, {"a": "b"}], None)) == ""
    assert opaque_part({"x": [torch.ones(1), (Opaque("my.Thing"),)]}) == "an object of type my.Thing"


def test_numeric_gradient_matches_a_known_derivative() -> None:
    module = types.ModuleType("toy")
    module.cube = lambda x, w: (x**3 * w, None)  # type: ignore[attr-defined]
    x = torch.tensor([[0.5, -1.0, 2.0]], dtype=F64)
    w = torch.tensor([3.0, 1.0, -2.0], dtype=F64)
    dout = torch.tensor([[1.0, 2.0, -1.0]], dtype=F64)
    case = Case("toy", (x, w))
    num_x = numeric_gradient(Oracle(module), "cube", case, 0, dout, 1e-6)
    num_w = numeric_gradient(Oracle(module), "cube", case, 1, dout, 1e-6)
    torch.testing.assert_close(num_x, 3 * x**2 * w * dout)
    torch.testing.assert_close(num_w, (x**3 * dout)[0])


def test_failures_behind_a_wrong_forward_point_at_it() -> None:
    layer = Layer("f_forward", "f_backward", ("dx",), (0,))
    right, wrong = torch.ones(2, 3), torch.zeros(2, 3)
    crash = Raised("f_backward", "f_backward(...)", "IndexError", "out of range", "mod.py:3")
    with pytest.raises(Raised), judged_on_own_forward(right, right, layer):
        raise crash  # the forward is right: the backward's own error stands
    for problem in (crash, CheckFailure("dx: rel. error 1e0", "dx differs")):
        with pytest.raises(CheckFailure) as info, judged_on_own_forward(wrong, right, layer):
            raise problem
        assert info.value.public.startswith(str(problem))
        assert info.value.public.endswith(
            "your own f_forward, whose out is wrong on this case too: fix f_forward first"
        )
        assert info.value.hidden.endswith("(judged on your own f_forward, which is wrong here too)")
    with pytest.raises(CheckFailure, match="whose out is wrong"), judged_on_own_forward([1], right, layer):
        raise CheckFailure("dx: bad", "dx differs")


def test_guards_live_only_in_the_sandbox(course: Course) -> None:
    """Grading a topic that forbids autograd leaves autograd and BatchNorm intact here."""
    result = grade(course, course.reference_dir(), ["relu_backward", "batchnorm_inference"])
    assert result.score == result.max_score
    for fn in (torch.autograd.grad, torch.Tensor.backward, torch.nn.functional.batch_norm):
        assert not guards.is_wrapper(fn)
    assert torch.nn.BatchNorm1d.__init__ is torch.nn.modules.batchnorm._BatchNorm.__init__
    x = torch.ones(3, requires_grad=True)
    assert torch.autograd.grad((x * x).sum(), x)[0].tolist() == [2.0, 2.0, 2.0]
