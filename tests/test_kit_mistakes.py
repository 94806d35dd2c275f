"""A grader that calls a kit helper wrongly gets one line naming the helper and the fix (a
GraderMistake), per check, instead of a Python traceback: the course author's error, in words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dlgrade.core.declare import GraderMistake
from dlgrade.kit import cases
from tests.courses import course_copy


@pytest.mark.parametrize(
    ("dims", "says"),
    [
        ((2, 3), "got the tuple (2, 3)"),
        (3, "got the int 3"),
        ({"m": 2}, "got {'m': 2}"),
        ({"m": 2, "n": 3.0}, "got {'m': 2, 'n': 3.0}"),
        ({"m": 2, "n": -1}, "got {'m': 2, 'n': -1}"),
        ({"m": True, "n": 3}, "got {'m': True, 'n': 3}"),
    ],
)
def test_shaped_names_a_wrong_dims_in_one_line(dims: object, says: str) -> None:
    with pytest.raises(GraderMistake) as caught:
        cases.shaped("mn,n", dims, seed=0)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("cases.shaped('mn,n', dims): dims must map each of m, n to a size")
    assert says in message and "\n" not in message


def test_shaped_sizes_every_operand_from_dims() -> None:
    A, x = cases.shaped("mn,n", {"m": 2, "n": 3, "unused": 9}, seed=0)
    assert (A.shape, x.shape) == ((2, 3), (3,))


@pytest.mark.slow
def test_grade_reports_the_mistake_as_one_line_per_check(tmp_path) -> None:
    """The real `grade` on a course whose grader hands `shaped` a tuple of sizes."""
    (tmp_path / "course").mkdir()
    root = course_copy(tmp_path / "course")
    grader = root / "graders" / "test_tensors.py"
    text = grader.read_text()
    call = '"NCHW", dims, seed=cases.seed_for(fn, what, i)'
    assert call in text, "graders/test_tensors.py no longer calls cases.shaped this way"
    grader.write_text(text.replace(call, call.replace("dims,", "tuple(dims.values()),")))
    run = subprocess.run(
        [sys.executable, "-m", "dlgrade", "--submission", "reference", "nchw_to_nhwc"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 3, run.stderr
    said = (
        "cases.shaped('NCHW', dims): dims must map each of N, C, H, W to a size (an int >= 0); got the tuple"
    )
    errors = run.stderr.splitlines()
    assert errors and all(
        line.startswith("grader error: graders/test_tensors.py::") and said in line for line in errors
    ), run.stderr
    assert "Traceback" not in run.stdout + run.stderr and 'File "' not in run.stdout + run.stderr
