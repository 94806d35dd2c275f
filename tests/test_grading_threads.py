"""The grading process computes on one torch thread while it grades (dlgrade.engine.threads),
as its forked lanes and the workers do; the caller's thread count is left as it was."""

from __future__ import annotations

import pytest
import torch

from dlgrade.core.manifest import Course
from dlgrade.engine import runner
from dlgrade.engine.threads import one_torch_thread
from tests.support import ROOT, scores


def test_one_thread_inside_and_the_callers_count_after() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_torch_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError), one_torch_thread():
            raise ValueError("a failing run")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_checks_run_on_one_thread(course: Course, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = runner.run_checks

    def recording(session, **kw):  # type: ignore[no-untyped-def]
        seen.append(torch.get_num_threads())
        return real(session, **kw)

    monkeypatch.setattr(runner, "run_checks", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = runner.grade(course, ROOT / "reference", ["logsumexp"])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [1]
    assert scores(result)["logsumexp"][0] == "passed"
