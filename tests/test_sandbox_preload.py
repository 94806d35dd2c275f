"""The zygote loads torch's costly lazy imports once, when a submission names their trigger."""

from __future__ import annotations

import pytest

from dlgrade.core.manifest import Course
from dlgrade.sandbox.preload import needed
from tests.support import FIXTURES, grade_folder, scores, with_appended


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nopt = torch.optim.Adam([], lr=0.1)\n",
        "from torch import optim\n",
        "import torch.optim as o\n",
        "from torch.optim import SGD\n",
        "import torch\ng = torch.func.grad(f)\n",
        "import torch\nf = torch.compile(f)\n",
    ],
)
def test_naming_an_optimizer_preloads_dynamo(source: str) -> None:
    assert needed(source) == ["torch._dynamo"]


@pytest.mark.parametrize(
    "source",
    [
        '"""Pick a better optimiser (Adam) and optimize the loss; torch.optim is allowed."""\n',
        "import torch\ny = torch.nn.functional.relu(x)\n",
        "def broken(:\n",
        "",
    ],
)
def test_other_sources_preload_nothing(source: str) -> None:
    assert needed(source) == []


def test_a_named_optimizer_works_in_the_sandbox(course: Course, tmp_path) -> None:
    """Without the preload its first use is denied in the worker (import ctypes, os.mkdir)."""
    folder = with_appended(course, "xor", FIXTURES / "engine" / "optimizer_named.py", tmp_path / "sub")
    result = grade_folder(course, folder, "train_xor_linear")
    assert result.internal_errors == ()
    assert scores(result)["train_xor_linear"][0] == "passed", result.exercises[0].message


def test_a_source_is_parsed_once_while_it_stays_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each exercise of a module starts a worker for the same source: parsed once, and a
    changed source (a student saved) is parsed again and answered for itself."""
    from dlgrade.sandbox import preload

    parsed: list[str] = []
    real = preload.identifiers
    monkeypatch.setattr(preload, "identifiers", lambda source: parsed.append(source) or real(source))
    first = "import torch\ny = torch.relu(x)  # parsed once\n"
    assert [needed(first) for _ in range(3)] == [[], [], []]
    assert parsed == [first]
    second = first + "opt = torch.optim.SGD([], lr=0.1)\n"
    assert needed(second) == ["torch._dynamo"]
    assert needed(first) == []
    assert parsed == [first, second]
