"""Which code of a notebook is graded: the definitions its cells ran, in order."""

from __future__ import annotations

import json
from pathlib import Path

from dlgrade.intake.notebook_code import module_source, notebook_cells


def run(source: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(source, "<module>", "exec"), namespace)
    return namespace


def test_definitions_are_kept_in_order_and_the_rest_left_out() -> None:
    cells = [
        "import math\nfrom dlgrade.notebook.cells import grade_cell, start_grader\n\nstart_grader()",
        "SCALE = 2.0\n\n@staticmethod\ndef helper(x):\n    return x * SCALE\n\nprint(helper(3))",
        "def f(x):\n    # a comment stays\n    return helper(x) + math.pi\n\nf(1)\n"
        "for _ in range(3):\n    pass",
        'grade_cell(\n    "f",\n)',
    ]
    source = module_source(cells)
    assert "dlgrade" not in source
    assert "print(" not in source and "for _" not in source and "grade_cell" not in source
    assert "# a comment stays" in source
    assert "@staticmethod\ndef helper" in source
    namespace = run(source)
    assert set(namespace) >= {"math", "SCALE", "helper", "f"}


def test_a_later_definition_wins_as_in_the_kernel() -> None:
    source = module_source(["def f():\n    return 1", "x = 3", "def f():\n    return 2"])
    assert run(source)["f"]() == 2  # type: ignore[operator]


def test_cells_that_do_not_parse_are_left_out_whole() -> None:
    source = module_source(["def f(:\n    return 1", "def g():\n    return 2"])
    assert "def f" not in source
    assert run(source)["g"]() == 2  # type: ignore[operator]


def test_statements_sharing_a_line_are_split() -> None:
    source = module_source(["x = 1; print(x); y = x + 1"])
    assert "print" not in source
    assert run(source)["y"] == 2


def test_loops_and_calls_at_the_top_level_never_run_at_import() -> None:
    source = module_source(["def f():\n    return 1\nwhile True:\n    pass", "f()\nraise SystemExit"])
    assert run(source)["f"]() == 1  # type: ignore[operator]


def test_no_definitions_give_an_empty_module() -> None:
    assert module_source(["print(1)", "", "1 + 1"]) == ""


def test_notebook_cells_turn_magics_into_python(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# title"},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": ["%matplotlib inline\n", "x = 1\n"],
            },
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": "files = !ls\ny = x + 1"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    cells = notebook_cells(path)
    assert len(cells) == 2
    assert "get_ipython" in cells[0] and "get_ipython" in cells[1]
    source = module_source(cells)
    assert "get_ipython" not in source  # kernel-only calls are left out, assignments too
    assert run(source)["y"] == 2


def test_grade_on_a_notebook_grades_what_it_defines(tmp_path: Path) -> None:
    """`grade --submission my.ipynb` (the real command): the exercises the notebook defines, not
    the whole course with every other exercise as an error."""
    import subprocess
    import sys

    from tests.support import ROOT

    solution = (ROOT / "reference" / "stability.py").read_text()
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": solution}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps(notebook))
    grade = str(Path(sys.executable).with_name("grade"))
    done = subprocess.run(
        [grade, "--submission", str(path), "--format", "json"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {e["topic"] for e in result["exercises"]} == {"stability"}
    assert result["score"] == result["max_score"] == 20
