"""The check every exercise gets: its calls leave their inputs unchanged (dlgrade.engine.inputs)."""

from __future__ import annotations

import math

import torch

from dlgrade.core.manifest import Course
from dlgrade.engine.inputs import INPUTS_CHECK, INPUTS_SHARE, InputsLedger, changes, tensor_change
from tests.support import grade_folder, variant, with_appended


def test_every_kind_of_in_place_change_is_seen() -> None:
    x = torch.tensor([[1.0, math.nan], [3.0, 4.0]], dtype=torch.float64)
    assert tensor_change(x, x.clone()) == ""  # NaN equals NaN
    assert "values changed: 2 at [0, 0], sent as 1" in tensor_change(x, x * 2)
    assert "shape changed from (2, 2) to (4,)" in tensor_change(x, x.clone().resize_(4))
    assert "dtype changed from float64 to float32" in tensor_change(x, x.float())
    assert "came back as None" in tensor_change(x, None)
    y = torch.arange(3)
    grads = [x, {"y": y}]
    assert list(changes(grads, [x.clone(), {"y": y.clone()}], "grads")) == []
    found = list(changes(grads, [x.clone(), {"y": y + 1}], "grads"))
    assert [name for name, _ in found] == ["grads[1]['y']"]
    assert list(changes(3, 4, "n")) == []  # only tensors are judged: numbers are passed by value


def test_a_change_in_a_hidden_check_never_shows_its_inputs() -> None:
    x = torch.ones(7, 9, dtype=torch.float64)
    ledger = InputsLedger()
    ledger.note_returned("relu_forward", (x,), {}, ((x * 0,), {}), ("x",), ("agrees on larger inputs", True))
    assert ledger.judged == 1 and ledger.public == ""
    assert (
        ledger.hidden
        == 'relu_forward changed its argument x in place in the hidden check "agrees on larger inputs"'
    )
    ledger.note_returned("relu_forward", (x,), {}, ((x * 0,), {}), ("x",), ("max(x, 0)", False))
    assert "relu_forward(float64 tensor of shape (7, 9)) changed its argument x" in ledger.public
    assert "sent as 1" in ledger.public and 'check "max(x, 0)"' in ledger.public


def test_calls_without_tensors_are_not_judged() -> None:
    ledger = InputsLedger()
    ledger.note_sent((3, 4), {"seed": 0})
    ledger.note_returned("xavier_uniform", (3, 4), {}, ((3, 4), {}), ("n_in", "n_out"), ("c", False))
    assert not ledger.sent and ledger.judged == 0


def test_the_check_names_the_call_and_the_argument_and_keeps_the_points_exact(
    course: Course, tmp_path
) -> None:
    v = variant("tensors", "nchw_to_nhwc_in_place")
    result = grade_folder(course, with_appended(course, v.module, v.path, tmp_path), "nchw_to_nhwc")
    (e,) = result.exercises
    checks = {c.name: c for c in e.checks}
    inputs = checks[INPUTS_CHECK]
    assert not inputs.passed and inputs.visibility == "public" and inputs.outcome == "failed"
    assert inputs.message.startswith("nchw_to_nhwc(float")
    assert "changed its argument x in place (its shape changed" in inputs.message
    assert "transpose_" not in inputs.hint and "out-of-place" in inputs.hint
    assert inputs.max_score == round(course.exercise("nchw_to_nhwc").points * INPUTS_SHARE, 4)
    # the value checks judged the values they got: right values, full points
    assert all(c.passed for c in e.checks if c.name != INPUTS_CHECK)
    assert e.score == round(e.max_score - inputs.max_score, 4)
    as_json = result.to_dict()["exercises"][0]["checks"]
    assert [c["name"] for c in as_json][-1] == INPUTS_CHECK


def test_the_model_solutions_pass_it_and_stubs_are_not_started(course: Course) -> None:
    result = grade_folder(course, course.reference_dir(), "nchw_to_nhwc", "xavier_uniform")
    by_id = {e.id: e for e in result.exercises}
    inputs = {c.name: c for c in by_id["nchw_to_nhwc"].checks}[INPUTS_CHECK]
    assert inputs.passed and by_id["nchw_to_nhwc"].score == by_id["nchw_to_nhwc"].max_score
    # xavier_uniform takes no tensor: nothing to judge, no such check
    assert INPUTS_CHECK not in {c.name for c in by_id["xavier_uniform"].checks}
    stubs = grade_folder(course, course.exercises_dir(), "nchw_to_nhwc")
    (e,) = stubs.exercises
    assert e.status == "not_started"
    stub = {c.name: c for c in e.checks}[INPUTS_CHECK]
    assert stub.outcome == "not_started" and "NotImplementedError" in stub.message


def nested(value: object, levels: int) -> object:
    for _ in range(levels):
        value = [value]
    return value


def test_a_tensor_is_found_where_it_is_held_and_no_deeper_than_the_limit() -> None:
    """The walk passes over numbers and strings without descending into them; a tensor is
    found in tuples, lists and dicts down to depth 8, as the ledger has always judged."""
    from dlgrade.engine.inputs import has_tensor

    t = torch.ones(1)
    graph = [("add", i, i + 1) for i in range(6000)]
    assert has_tensor(t) and has_tensor((graph, t)) and has_tensor({"a": (1, [2, {"b": t}])})
    assert not has_tensor(graph) and not has_tensor(("x", 1.5, None, b"t", {"k": [1, 2]}))
    assert has_tensor(nested(t, 8)) and not has_tensor(nested(t, 9))
    assert has_tensor(nested({"k": t}, 7)) and not has_tensor(nested({"k": t}, 8))
