"""Recorded answers: what a release records is what a bundle replays, and nothing else passes."""

from __future__ import annotations

import json

import pytest
import torch

from dlgrade.engine.answers import (
    AnswerBook,
    AnswerError,
    RecordingOracle,
    ReplayOracle,
    UnrecordedQuestion,
    question_key,
)
from dlgrade.engine.bundle import BundleError
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.references import ModuleLoader
from dlgrade.kit.cases import randn
from tests.support import ROOT


@pytest.fixture(scope="module")
def model():
    return ModuleLoader(ROOT / "reference", prefix="dlgrade_test_answers").module("stability")


def x(seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return randn((3, 4), seed=seed, dtype=dtype, scale=10.0)


def test_replay_answers_exactly_what_was_recorded(model, tmp_path) -> None:
    book = AnswerBook()
    recorder, truth = RecordingOracle(model, "stability", book), Oracle(model)
    g = randn((3, 4), seed=9, dtype=torch.float64)
    recorded = [
        recorder.stable_softmax(x(), dim=0),
        recorder.logsumexp(x(1, torch.float64), dim=-1, keepdim=True),
        recorder.grad("log_softmax", x(2, torch.float64), grad_output=g, dim=1),
    ]
    path = tmp_path / "answers.json"
    path.write_text(book.to_json())
    replay = ReplayOracle(AnswerBook.load(path), "stability")
    torch.testing.assert_close(replay.stable_softmax(x(), dim=0), recorded[0], rtol=0, atol=0)
    torch.testing.assert_close(replay.stable_softmax(x(), dim=0), truth.stable_softmax(x(), dim=0))
    torch.testing.assert_close(replay.logsumexp(x(1, torch.float64), dim=-1, keepdim=True), recorded[1])
    call = replay.grad("log_softmax", x(2, torch.float64), grad_output=g, dim=1)
    torch.testing.assert_close(call.value, recorded[2].value.detach())
    torch.testing.assert_close(call.grads[0], recorded[2].grads[0])
    torch.testing.assert_close(call.args_after[0], x(2, torch.float64))


def test_a_question_never_recorded_is_an_error_not_a_pass(model) -> None:
    book = AnswerBook()
    RecordingOracle(model, "stability", book).stable_softmax(x(), dim=0)
    replay = ReplayOracle(book, "stability")
    for ask in (
        lambda: replay.stable_softmax(x(), dim=1),  # another dim
        lambda: replay.stable_softmax(x(1), dim=0),  # other values
        lambda: replay.stable_softmax(x().double(), dim=0),  # another dtype
        lambda: replay.log_softmax(x(), dim=0),  # another function
        lambda: replay.grad("stable_softmax", x(), dim=0),  # the gradient, not the value
        lambda: ReplayOracle(book, "other_topic").stable_softmax(x(), dim=0),
    ):
        with pytest.raises(UnrecordedQuestion, match="no answer to"):
            ask()


def test_keys_depend_on_the_inputs_only(model) -> None:
    a = question_key("stability", "call", "f", {"args": [x()], "kwargs": {"dim": 0}})
    assert a == question_key("stability", "call", "f", {"args": [x().requires_grad_()], "kwargs": {"dim": 0}})
    assert a != question_key("stability", "call", "f", {"args": [x()], "kwargs": {"dim": 1}})
    y = x()
    y[0, 0] = torch.nextafter(y[0, 0], torch.tensor(1e9))  # one ulp away
    assert a != question_key("stability", "call", "f", {"args": [y], "kwargs": {"dim": 0}})


def test_only_plain_data_is_recorded(model) -> None:
    book = AnswerBook()
    with pytest.raises(AnswerError, match="cannot be recorded as plain data"):
        book.put("k", torch.nn.Linear(2, 2), "reference.layer")
    with pytest.raises(AnswerError, match="cannot be recorded as plain data"):
        question_key("stability", "call", "f", {"args": [object()], "kwargs": {}})
    book.put("k", torch.ones(2), "reference.f")
    with pytest.raises(AnswerError, match="two different answers"):
        book.put("k", torch.zeros(2), "reference.f")


def test_answers_file_is_json_and_bad_files_are_one_line_errors(tmp_path) -> None:
    book = AnswerBook()
    book.put("k", (torch.arange(3.0), {"n": 2}), "reference.f")
    path = tmp_path / "answers.json"
    path.write_text(book.to_json())
    assert set(json.loads(path.read_text())) == {"format", "answers"}
    value, extra = AnswerBook.load(path).get("k")
    assert torch.equal(value, torch.arange(3.0)) and extra == {"n": 2}
    for text in ("not json", '{"format": 2, "answers": {}}', '{"format": 1, "answers": {"k": "**"}}'):
        path.write_text(text)
        with pytest.raises(BundleError) as err:
            AnswerBook.load(path)
        assert "\n" not in str(err.value)
    with pytest.raises(BundleError, match="missing"):
        AnswerBook.load(tmp_path / "absent.json")
