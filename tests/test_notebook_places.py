"""`grade --submission x.ipynb`: messages name notebook cells ("cell 4, line 3"), never the lines of
the module made from them, wherever a location is shown (a traceback's, a forbidden call's, a
NotImplementedError's). Through the real `grade`, on a real notebook file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.intake.notebook_code import located_source

GRADE = str(Path(sys.executable).with_name("grade"))


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


def _markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


@pytest.mark.slow  # a whole `grade` process
def test_messages_name_the_notebooks_cells(tmp_path: Path) -> None:
    cells = [
        _markdown("# my work"),
        _code("import torch\n"),
        _markdown("next"),
        _code("def logsumexp(x, dim=-1, keepdim=False):\n    y = x * 2\n    raise ValueError('oops')\n"),
        _code("print('scratch')\n\ndef stable_softmax(x, dim=-1):\n    return torch.softmax(x, dim)\n"),
        _code("def log_softmax(x, dim=-1):\n    raise NotImplementedError\n"),
    ]
    notebook = tmp_path / "x.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    done = subprocess.run(
        [GRADE, "--submission", str(notebook), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    exercises = {e["id"]: e for e in json.loads(done.stdout)["exercises"]}
    assert sorted(exercises) == ["log_softmax", "logsumexp", "stable_softmax"]
    expected = {
        "logsumexp": "raised ValueError: oops at cell 4, line 3",
        "stable_softmax": "uses torch.softmax at cell 5, line 4",
        "log_softmax": "still raises NotImplementedError (cell 6, line 2)",
    }
    for name, words in expected.items():
        messages = [exercises[name]["message"], *(c["message"] for c in exercises[name]["checks"])]
        assert words in exercises[name]["message"], exercises[name]["message"]
        assert not any(".py:" in m for m in messages), messages


def test_each_module_line_knows_its_cell_even_where_statements_share_a_line() -> None:
    source, places = located_source(
        [("cell 2", "import math\n"), ("cell 3", "f(1)\nx = 1; f(x)\ndef g():\n    return x\n")]
    )
    assert source.splitlines() == ["import math", "", "x = 1", "def g():", "    return x"]
    assert places == ["cell 2, line 1", "", "cell 3, line 2", "cell 3, line 3", "cell 3, line 4"]
