"""Shared input generators (dlgrade.kit.cases): distinct axis sizes drawn the same way everywhere."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from dlgrade.kit import cases
from tests.support import ROOT


def test_sizes_differ_within_each_assignment_and_ones_are_one() -> None:
    drawn = cases.sizes("bqkdv", 8, seed=3, ones="b", high=9)
    assert len(drawn) == 8
    for dims in drawn:
        assert list(dims) == list("bqkdv") and dims["b"] == 1
        rest = [dims[a] for a in "qkdv"]
        assert len(set(rest)) == 4 and all(2 <= s <= 9 for s in rest)
    assert len({tuple(d.values()) for d in drawn}) == 8


def test_repeated_letters_are_one_axis() -> None:
    (dims,) = cases.sizes("bnn", 1, seed=1)
    assert list(dims) == ["b", "n"]
    (A,) = cases.shaped("bnn", dims, seed=1)
    assert A.shape == (dims["b"], dims["n"], dims["n"])


def test_sizes_are_the_same_in_a_fresh_process_and_leave_no_files(tmp_path) -> None:
    """Draws depend on neither the modules loaded (this test process holds many) nor the folder."""
    code = "import json, dlgrade.kit.cases as c; print(json.dumps(c.sizes('abcdef', 12, seed=7, high=11)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout) == cases.sizes("abcdef", 12, seed=7, high=11)
    assert list(tmp_path.iterdir()) == []


def test_shaped_and_label_all() -> None:
    x, A, y = cases.shaped("n,nn,n", {"n": 3}, seed=5, dtype=torch.float64)
    assert (x.shape, A.shape, y.shape) == ((3,), (3, 3), (3,)) and A.dtype == torch.float64
    assert not torch.equal(x, y)
    assert cases.label_all((x, A, y), "random") == "random, float64 tensors of shape (3,), (3, 3) and (3,)"
    assert cases.shaped("mn,np", {"m": 2, "n": 3, "p": 4}, seed=5)[0].equal(
        cases.shaped("mn,np", {"m": 2, "n": 3, "p": 4}, seed=5)[0]
    )


def test_sizes_follow_the_seed_and_the_range() -> None:
    one = cases.sizes("abc", 6, seed=1, low=3, high=7)
    assert one == cases.sizes("abc", 6, seed=1, low=3, high=7)
    assert one != cases.sizes("abc", 6, seed=2, low=3, high=7)
    assert all(3 <= v <= 7 for d in one for v in d.values())
    assert cases.sizes("abc", 2, seed=1, low=3, high=7) == one[:2]  # fewer: the same draw's first
    few = cases.sizes("ab", 6, seed=1, low=2, high=3)  # only (2, 3) and (3, 2) exist
    assert sorted(tuple(d.values()) for d in few) == [(2, 3), (3, 2)]
    with pytest.raises(ValueError, match="cannot all differ"):
        cases.sizes("abcd", 1, seed=1, low=2, high=4)


# Slow tier: a whole-course grading in a fresh process. The development environment has no
# hypothesis installed, so every fast-tier grading already runs without it; this one matters
# where it is installed (CI runs the slow tier).
@pytest.mark.slow
def test_grading_needs_no_hypothesis() -> None:
    """The graders draw from seeded generators of their own: the whole course grades with
    hypothesis made unimportable, and nothing imports it."""
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "from pathlib import Path\n"
        "from dlgrade.core.manifest import load_course\n"
        "from dlgrade.engine.runner import grade\n"
        f"course = load_course(Path({str(ROOT)!r}))\n"
        "r = grade(course, course.reference_dir())\n"
        "assert not r.internal_errors, r.internal_errors\n"
        "print(r.score, r.max_score, sys.modules['hypothesis'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    score, max_score, module = done.stdout.split()
    assert score == max_score and module == "None"
