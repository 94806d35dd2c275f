"""The sweep finds the library routes to a forbidden result, and every one it finds is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.rule_sets import Rules, RuleSet
from dlgrade.dev import sweep as sweep_module
from dlgrade.dev.sweep import refusal, rules_for, sweep


def test_a_route_is_flagged_and_judged_by_the_rule(course: Course, monkeypatch) -> None:
    """On a few callables: the built-in softmax and two disguises are found, a harmless one is not."""
    import numpy
    import torch
    import torch.nn.functional as F

    few = [("torch.nn.functional.softmax", F.softmax), ("torch.sparse.softmax", torch.sparse.softmax),
           ("numpy.logaddexp.reduce", numpy.logaddexp.reduce), ("torch.exp", torch.exp)]  # fmt: skip
    monkeypatch.setattr(sweep_module, "candidates", lambda: iter(few))
    tried, findings = sweep(course, "stable_builtins")
    assert tried == 4
    assert {f.callable for f in findings} == {"torch.nn.functional.softmax", "torch.sparse.softmax",
                                              "numpy.logaddexp.reduce"}  # fmt: skip
    assert all(f.refusal for f in findings), [f.line() for f in findings]


def test_a_rule_without_an_allow_list_leaves_routes_open(course: Course) -> None:
    """The judgement can fail: forbidden names alone leave torch.sparse.softmax open; the course's
    allow-list refuses it."""
    names_only = Rules(sets=(RuleSet("stable_builtins", "why", calls=("torch.softmax",)),))
    assert refusal(names_only, "torch.sparse.softmax") == ""
    assert refusal(names_only, "torch.softmax") == "uses torch.softmax"
    assert "not among" in refusal(rules_for(course, "stable_builtins"), "torch.sparse.softmax")


def test_an_unknown_rule_is_one_line(course: Course) -> None:
    with pytest.raises(ValueError, match="no sweep target for rule set 'sandbox'"):
        sweep(course, "sandbox")


@pytest.mark.slow
def test_the_sweep_finds_no_unrefused_route(course: Course) -> None:
    """torch's and numpy's whole public API, every target: each route found is refused statically."""
    tried, findings = sweep(course)
    assert tried > 1000 and len(findings) > 50
    assert [f.line() for f in findings if not f.refusal] == []


def test_dev_sweep_command_reports_and_fails_on_an_unknown_rule(course: Course) -> None:
    grade = str(Path(sys.executable).with_name("grade"))
    run = subprocess.run(
        [grade, "dev", "sweep", "nope"], cwd=course.root, capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0 and "no rule set 'nope'" in run.stderr and "Traceback" not in run.stderr


def test_a_named_ban_is_reported_as_guarded_at_run_time_too(course: Course) -> None:
    from dlgrade.dev.sweep import guarded

    rules = rules_for(course, "stable_builtins")
    assert guarded(rules, "torch.softmax") and not guarded(rules, "torch.sparse.softmax")
