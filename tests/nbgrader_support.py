"""Helpers for the nbgrader proofs: run real nbgrader, build submissions, read the gradebook.

Submissions start from the released notebook (what students get) with answer cells filled
from the source notebook's solutions (the model solutions), left as stubs, or changed by a
known-wrong file (tests.support.variant).
"""

from __future__ import annotations

import ast
import copy
import csv
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

from dlgrade.nbgrader.cells import BEGIN_SOLUTION, END_SOLUTION

NBGRADER_TIMEOUT = 900


def nbgrader(course_dir: Path, *args: str) -> float:
    """Run `python -m nbgrader ARGS` in the course folder; return its wall time in seconds."""
    started = time.perf_counter()
    nbgrader_run(course_dir, *args)
    return time.perf_counter() - started


def nbgrader_run(course_dir: Path, *args: str) -> str:
    """Run `python -m nbgrader ARGS` in the course folder; return what it printed.

    nbgrader runs `alembic` by name when it creates the gradebook, so this Python's bin
    folder goes first on PATH.
    """
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=NBGRADER_TIMEOUT,
    )
    if done.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def read_notebook(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def answer_cells(notebook: Any) -> dict[str, Any]:
    """grade_id -> cell, for the cells students write in (nbgrader solution cells)."""
    return {
        c.metadata.nbgrader["grade_id"]: c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def model_answers(source: Any) -> dict[str, str]:
    """The source notebook's solution cells without nbgrader's solution markers."""
    return {
        gid: "\n".join(
            line for line in cell.source.split("\n") if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
        )
        for gid, cell in answer_cells(source).items()
    }


def with_variant(answers: dict[str, str], variant: Path) -> dict[str, str]:
    """The answers with a known-wrong file appended to the cell of the first exercise it defines."""
    text = variant.read_text()
    defined = {n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}
    target = next(gid for gid in answers if gid in defined)
    return {**answers, target: answers[target] + "\n\n" + text}


def filled(release: Any, answers: dict[str, str]) -> Any:
    """A copy of the released notebook with some answer cells replaced."""
    notebook = copy.deepcopy(release)
    for gid, cell in answer_cells(notebook).items():
        if gid in answers:
            cell.source = answers[gid]
    return notebook


def with_cell(notebook: Any, source: str, after: str) -> Any:
    """A copy of the notebook with a new code cell after the cell whose id is `after`."""
    out = copy.deepcopy(notebook)
    at = next(i for i, c in enumerate(out.cells) if c.get("id") == after) + 1
    out.cells.insert(at, nbformat.v4.new_code_cell(source))
    return out


def submit(course_dir: Path, student: str, assignment: str, name: str, notebook: Any) -> Path:
    folder = course_dir / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def gradebook_points(course_dir: Path, assignment: str, notebook: str, student: str) -> dict[str, float]:
    """grade_id -> points nbgrader recorded for each graded cell of one student's notebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: g.score for g in nb.grades}


def exported_totals(csv_path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(assignment, student) -> (score, max_score) from `nbgrader export`'s CSV."""
    with csv_path.open(newline="") as f:
        return {
            (row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(f)
        }
