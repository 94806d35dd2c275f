"""`%load_ext dlgrade`, then `%grade [NAMES]`: grade the functions this notebook defined.

The definitions the notebook's cells have run (`dlgrade.intake.notebook_code`) are written as the
exercise modules to a private temporary folder and graded by the notebook grading process
(`dlgrade.notebook.server`, started when the extension loads), with the same graders, sandbox
and scoring as `grade` run on those modules. Nothing is graded in the kernel.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from dlgrade.core.manifest import Course, ManifestError
from dlgrade.core.result import GradeResult
from dlgrade.intake.notebook_code import module_source, notebook_modules_from_source
from dlgrade.notebook.cells import (
    NotebookGradingError,
    _executed_cells,
    find_course,
    grading_client,
    start_grader,
)


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magic_function(grade_magic, magic_kind="line", magic_name="grade")
    start_grader()  # before more student cells run (docs/nbgrader.md says why)


def grade_magic(line: str) -> None:
    """%grade [NAMES]: grade the named topics or exercises (default: those the notebook defines)."""
    from IPython.core.error import UsageError

    from dlgrade.report.table import render_table

    try:
        result = grade_notebook(find_course(), line.split(), _executed_cells())
    except (ManifestError, NotebookGradingError) as exc:
        raise UsageError(str(exc)) from None
    print(render_table(result), end="")


def grade_notebook(course: Course, names: list[str], cells: list[str]) -> GradeResult:
    """Grade the exercises `names` (or every one the cells define) on the cells' definitions."""
    course.select(names)  # unknown names fail here, with a suggestion
    modules: dict[str, set[str]] = {}
    for e in course.exercises:
        modules.setdefault(e.module, set()).add(e.function)
    sources = notebook_modules_from_source(module_source(cells), modules)
    if not names:
        names = [e.id for e in course.exercises if e.module in sources and _defines(sources[e.module], e.id)]
        if not names:
            raise NotebookGradingError(
                "this notebook defines no exercise function yet (`grade list` names them)"
            )
    exercises: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-notebook-") as folder:
        for module, source in sources.items():
            Path(folder, f"{module}.py").write_text(source, encoding="utf-8")
        client = grading_client(course)
        for name in names:
            part = client.grade(folder, name, None)
            if part.internal_errors:
                raise NotebookGradingError(f"the graders failed: {part.internal_errors[0]}")
            exercises += [e for e in part.exercises if e.id not in {x.id for x in exercises}]
    order = {e.id: n for n, e in enumerate(course.exercises)}
    return GradeResult(
        exercises=tuple(sorted(exercises, key=lambda e: order[e.id])),
        submission="notebook",
        course=course.title,
    )


def _defines(source: str, function: str) -> bool:
    import ast

    try:
        return any(isinstance(n, ast.FunctionDef) and n.name == function for n in ast.parse(source).body)
    except SyntaxError:
        return False
