"""What a student does while debugging works in the worker: printing tensors (torch's tensor
printing calls forward_ad.unpack_dual, a guarded function) and forward-mode AD where the
exercise's rules allow it; where they forbid it, it is still refused. The first test goes through
the real `grade` command (its JSON on stdout stays whole beside the prints); the others call the
function the command calls, in this process (their workers are real): each process costs a
torch import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from dlgrade.core.manifest import Course
from dlgrade.engine.runner import grade
from tests.support import ROOT, reference_copy

GRADE = str(Path(sys.executable).with_name("grade"))


def _grade(folder: Path, *names: str) -> dict[str, Any]:
    done = subprocess.run(
        [GRADE, *names, "--submission", str(folder), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _grade_here(course: Course, folder: Path, *names: str) -> dict[str, Any]:
    """As `_grade`, in this process: the engine call `grade` makes, its result as the JSON says it."""
    return json.loads(json.dumps(grade(course, folder, names).to_dict()))


def _appended(course: Course, module: str, text: str, dest: Path) -> Path:
    folder = reference_copy(course, dest)
    target = folder / f"{module}.py"
    target.write_text(target.read_text() + "\n\n" + text)
    return folder


PRINTS = """
_model_softmax = stable_softmax


def stable_softmax(x, dim=-1):
    print("debug", x, x.shape, torch.ones(2, dtype=torch.float64))
    return _model_softmax(x, dim){tail}
"""


def test_printing_tensors_keeps_the_grade_and_shows_the_prints(course: Course, tmp_path) -> None:
    right = _appended(course, "stability", PRINTS.format(tail=""), tmp_path / "right")
    result = _grade(right, "stable_softmax")
    (softmax,) = result["exercises"]
    assert softmax["status"] == "passed", softmax
    assert softmax["score"] == softmax["max_score"] > 0
    wrong = _appended(course, "stability", PRINTS.format(tail=" * 2"), tmp_path / "wrong")
    (softmax,) = _grade(wrong, "stable_softmax")["exercises"]
    failed = [c for c in softmax["checks"] if not c["passed"] and c["visibility"] == "public"]
    messages = " ".join(c["message"] for c in failed)
    assert "your code printed: debug tensor(" in messages  # torch's own text of the tensor
    assert "TypeError" not in messages


MATVEC_PRINTS = """
_model_matvec = matvec


def matvec(A, x):
    print(A, f"{x}", repr(x))
    return _model_matvec(A, x)
"""


def test_printing_tensors_where_iterating_a_tensor_is_forbidden(course: Course, tmp_path) -> None:
    """torch's text of a tensor iterates and reduces it; einsum's rules forbid that to the
    student (no_loops), not to print."""
    folder = _appended(course, "einsum_tasks", MATVEC_PRINTS, tmp_path / "sub")
    (matvec,) = _grade_here(course, folder, "matvec")["exercises"]
    assert matvec["status"] == "passed", matvec
    assert matvec["score"] == matvec["max_score"] > 0


FORWARD_MODE = (ROOT / "tests" / "fixtures" / "right" / "layers" / "forward_mode.py").read_text()


def test_forward_mode_ad_where_the_rules_allow_it(course: Course, tmp_path) -> None:
    folder = _appended(course, "layers", FORWARD_MODE, tmp_path / "sub")
    (relu,) = _grade_here(course, folder, "relu_forward")["exercises"]
    assert relu["status"] == "passed", relu
    assert relu["score"] == relu["max_score"] > 0


FORBIDDEN = """
def jvp(*args, **kwargs):
    primal, tangent = torch.autograd.forward_ad.unpack_dual(torch.ones(1))  # no import: caught when called
    return primal, tangent
"""


def test_forward_mode_ad_where_the_rules_forbid_it(course: Course, tmp_path) -> None:
    """autodiff's jvp forbids forward_ad (no_forward_ad, no_autograd): still refused."""
    folder = _appended(course, "autodiff", FORBIDDEN, tmp_path / "sub")
    (jvp,) = _grade_here(course, folder, "jvp")["exercises"]
    assert jvp["score"] == 0 and jvp["status"] == "error", jvp
    said = " ".join(c["message"] for c in jvp["checks"])
    assert "torch.autograd.forward_ad.unpack_dual at autodiff.py" in said  # refused, and why
