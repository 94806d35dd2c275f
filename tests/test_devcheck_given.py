"""`grade dev check` accepts given code in stub modules and catches it drifting."""

from __future__ import annotations

import shutil

from dlgrade.core.manifest import load_course
from dlgrade.dev.check import static_problems
from tests.support import ROOT


def _course_copy(tmp_path):
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def _found(root) -> list[str]:
    return [str(p) for p in static_problems(load_course(root))]


def test_given_constants_and_helpers_are_accepted() -> None:
    assert _found(ROOT) == []


def test_given_code_must_match_the_model_solution(tmp_path) -> None:
    root = _course_copy(tmp_path)
    stub = root / "exercises" / "relu_nets.py"
    stub.write_text(
        stub.read_text().replace("x = torch.rand(n, generator=g", "x = torch.randn(n, generator=g")
    )
    xor = root / "exercises" / "xor.py"
    xor.write_text(
        xor.read_text().replace(
            "Y = torch.tensor([0.0, 1.0, 1.0, 0.0])", "Y = torch.tensor([0.0, 1.0, 1.0, 1.0])"
        )
    )
    assert _found(root) == [
        "exercises/xor.py::Y: given in the stub but different in the model solution",
        "exercises/relu_nets.py::irony_of_spec_data: given in the stub but different in the model solution",
    ]


def test_given_code_missing_from_the_model_solution_or_an_undeclared_stub(tmp_path) -> None:
    root = _course_copy(tmp_path)
    stub = root / "exercises" / "xor.py"
    stub.write_text(
        stub.read_text() + '\n\nBATCH = 4\n\n\ndef extra(x: int) -> int:\n    """Not in course.toml."""\n'
        "    # TODO: write me\n    raise NotImplementedError\n"
    )
    assert _found(root) == [
        "exercises/xor.py::BATCH: given in the stub but missing from the model solution",
        "exercises/xor.py::extra: raises NotImplementedError but is not declared in course.toml",
    ]
