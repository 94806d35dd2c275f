"""Calls sent together (`student.calls`) give the verdicts of one-by-one calls."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from dlgrade.core.calls import Call, Raised, Request, TimedOut
from dlgrade.core.manifest import Course
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.sandbox.pool import Sandbox

MODULE = """
import time
CALLS = []

def stable_softmax(x, dim=-1):
    CALLS.append(float(x.sum()))
    if float(x.sum()) < 0:
        raise ValueError("negative input")
    if float(x.sum()) > 100:
        time.sleep(60)
    return x * 2

def logsumexp(x, dim=-1, keepdim=False):
    return CALLS  # what the worker saw so far, in order
"""


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox([])
    yield box
    box.close()


@pytest.fixture
def box(sandbox: Sandbox, course: Course, tmp_path):
    (tmp_path / "stability.py").write_text(MODULE)
    exercise = replace(course.exercise("stable_softmax"), time_limit=2.0)
    b = ExerciseSandbox(sandbox, course, exercise, str(tmp_path), {})
    yield b
    b.close()


def ones(value: float) -> Request:
    return Request((torch.full((2,), value / 2),))


def test_answers_come_back_in_order_and_whole(box: ExerciseSandbox) -> None:
    got = list(box.calls("stable_softmax", [ones(1), ones(2), ones(3)]))
    assert all(isinstance(c, Call) for c in got)
    assert [float(c.value.sum()) for c in got] == [2.0, 4.0, 6.0]
    assert box.call("logsumexp", (torch.ones(1),), {}).value == [1.0, 2.0, 3.0]


def test_the_first_error_is_raised_where_it_happened_and_costs_no_respawn(box: ExerciseSandbox) -> None:
    answers = box.calls("stable_softmax", [ones(1), ones(-1), ones(3), ones(4)])
    assert float(next(answers).value.sum()) == 2.0
    with pytest.raises(Raised, match="negative input"):
        next(answers)
    # The worker that ran the calls after the error is replaced; the next call starts clean.
    assert box.call("logsumexp", (torch.ones(1),), {}).value == []
    assert box._respawns == 0


def test_a_check_that_stops_reading_early_leaves_no_answer_behind(box: ExerciseSandbox) -> None:
    answers = box.calls("stable_softmax", [ones(1), ones(2), ones(3)])
    assert float(next(answers).value.sum()) == 2.0  # a check failing here stops reading
    follow = box.call("stable_softmax", (torch.full((2,), 5.0),), {})
    assert float(follow.value.sum()) == 20.0  # its own answer, not a stale one from the pipeline
    assert box._respawns == 0


def test_a_call_past_the_time_limit_times_out_in_a_pipeline(box: ExerciseSandbox) -> None:
    answers = box.calls("stable_softmax", [ones(1), ones(500), ones(3)])
    next(answers)
    with pytest.raises(TimedOut):
        next(answers)


def large(value: float) -> Request:
    """A call of about 1 MB: several of them are more than a socket's buffer takes at once."""
    x = torch.zeros(250_000)
    x[0] = value
    return Request((x,))


def test_calls_beyond_the_socket_buffer_come_back_in_order_and_whole(box: ExerciseSandbox) -> None:
    """What the buffer does not take at once is sent by a thread while the answers are read."""
    got = list(box.calls("stable_softmax", [large(v) for v in (1, 2, 3, 4, 5, 6)]))
    assert [float(c.value.sum()) for c in got] == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert all(c.value.shape == (250_000,) for c in got)
    assert box.call("logsumexp", (torch.ones(1),), {}).value == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_a_large_pipeline_stopped_early_leaves_no_answer_behind(box: ExerciseSandbox) -> None:
    answers = box.calls("stable_softmax", [large(v) for v in (1, 2, 3, 4, 5, 6)])
    assert float(next(answers).value.sum()) == 2.0
    follow = box.call("stable_softmax", (torch.full((2,), 5.0),), {})
    assert float(follow.value.sum()) == 20.0
    assert box.call("logsumexp", (torch.ones(1),), {}).value == [10.0]  # a fresh worker saw only that
