"""One topic as an nbgrader source notebook (nbformat 4.5, as a plain dict).

Cells, in order: the topic's introduction; read-only cells that start the checks' grading
process and hold the stub module's imports and givens; then per exercise a short explanation from course.toml,
the solution cell and a check cell worth the exercise's points. nbgrader's cell metadata
(schema 3) marks which cell is which; grade ids are the exercise ids.
"""

from __future__ import annotations

from typing import Any

from dlgrade.core.manifest import Course, Exercise, Topic
from dlgrade.core.result import points_text
from dlgrade.nbgrader.cells import check_source, docstring, setup_source, solution_source

NBGRADER_SCHEMA = 3
HOW_TO = (
    "**How this notebook works.** Write each function in the cell under its description and run "
    "that cell, then run the check cell under it: it shows which checks pass and, for those that "
    "fail, what went wrong and a hint. The checks grade the definitions your cells have run "
    "(imports, functions, classes, assignments) in the order they ran, so put helpers and extra "
    "imports in your own cells above the check cell; lines that only try things out (prints, "
    "calls, loops) are not graded. Some checks are hidden: they run when your notebook is graded. "
    "Before you submit, restart the kernel and run all cells."
)
SETUP_IMPORT = "from dlgrade.notebook.cells import start_grader"
SETUP_NOTE = "start_grader()  # starts the checks' grading process before your code runs"
_SYNTAX = {"loop": "Python loops and comprehensions", "matmul_operator": "the `@` operator"}
_MAX_CALLS_SHOWN = 6
CHECKS_SUFFIX = "_checks"  # a check cell's grade id is the exercise id and this


def topic_notebook(course: Course, topic: Topic) -> dict[str, Any]:
    stub = (course.exercises_dir() / f"{topic.module}.py").read_text(encoding="utf-8")
    reference = (course.reference_dir() / f"{topic.module}.py").read_text(encoding="utf-8")
    functions = {e.function for e in topic.exercises}
    setup = setup_source(stub, functions)
    cells = [
        _markdown("intro", f"# {topic.title}\n\n{_introduction(stub)}\n\n{HOW_TO}"),
        _code("grader", f"{SETUP_IMPORT}\n\n{SETUP_NOTE}"),  # first: it starts while torch imports
    ]
    if setup:
        cells.append(_code("setup", setup))
    for n, e in enumerate(topic.exercises, 1):
        cells += [
            _markdown(f"{e.id}_text", exercise_text(n, e)),
            _code(e.id, solution_source(stub, reference, e.function), solution=True),
            _code(e.id + CHECKS_SUFFIX, check_source(e.id, e.points), points=e.points),
        ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def exercise_text(n: int, e: Exercise) -> str:
    """The exercise's heading, points and summary from course.toml, and what it may not use."""
    lines = [f"## {n}. `{e.function}` ({points_text(e.points)} points)", "", e.summary or e.hint]
    rules = rules_text(e)
    return "\n".join([*lines, "", *rules] if rules else lines)


def rules_text(e: Exercise) -> list[str]:
    """One line per restriction a student must know (the sandbox's own rules are left out)."""
    by_why: dict[str, list[str]] = {}
    for pattern, why in e.rules.forbidden_calls().items():
        if "._" not in pattern:  # private torch names: nobody reaches for them by accident
            by_why.setdefault(why, []).append(pattern)
    out = []
    for why, calls in by_why.items():
        shown = ", ".join(f"`{c}`" for c in calls[:_MAX_CALLS_SHOWN])
        more = ", …" if len(calls) > _MAX_CALLS_SHOWN else ""
        out.append(f"- Not allowed: {shown}{more} ({why}).")
    for syntax, why in e.rules.syntax().items():
        out.append(f"- Not allowed: {_SYNTAX.get(syntax, syntax)} ({why}).")
    for name, (least, most, why) in e.rules.call_counts().items():
        bounds = [f"at least {least}"] if least else []
        bounds += [f"at most {most}"] if most is not None else []
        out.append(f"- `{name}`: {' and '.join(bounds)} call(s) ({why}).")
    return out


def _introduction(stub: str) -> str:
    """The stub module's docstring after its summary line (the title says it), without its
    lines about the `grade` command."""
    lines = docstring(stub).splitlines()[1:]
    return "\n".join(line for line in lines if "`grade" not in line).strip()


def _metadata(grade_id: str, *, solution: bool = False, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": NBGRADER_SCHEMA,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else points
    return {"nbgrader": meta}


def _markdown(grade_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": grade_id, "metadata": _metadata(grade_id), "source": text}


def _code(
    grade_id: str, source: str, *, solution: bool = False, points: float | None = None
) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": grade_id,
        "metadata": _metadata(grade_id, solution=solution, points=points),
        "outputs": [],
        "source": source,
    }
