"""The student's `grade`: one submission graded, remembered in .dlgrade/. Does not import torch."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from dlgrade.core.imports import heavy_imports
from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.intake.submission import open_submission


def grade_submission(
    course: Course,
    submission: str | None = None,
    names: Sequence[str] = (),
    *,
    device: str = "cpu",
    lanes: int = 1,
) -> GradeResult:
    """Grade one submission (None: the course's exercises/; 'reference'; a folder; a zip; a notebook).

    A notebook (alone, or in a zip of notebooks) is graded on the exercises it defines, as
    `%grade` with no names is in Jupyter; name exercises to grade others too. `lanes` > 1
    grades exercises in parallel processes forked from this one (engine.lanes): only for a
    process that has not run torch yet (the `grade` command), never a notebook's kernel.
    The sandbox's zygote starts before this process imports torch, so both imports overlap.
    Grading the course's own exercises/ is the student's loop: the result records the hint
    tiers opened, and each exercise's result is remembered in .dlgrade/ for `grade list`.
    """
    course.select(list(names))  # unknown names fail before any work starts
    with open_submission(course, submission) as sub:
        if not names and sub.defines is not None:
            names = sub.defines  # a notebook is graded on what it defines, like `%grade`
        box = course_sandbox(course)
        with heavy_imports():  # torch and pytest: a seventh faster without the collector (core.imports)
            from dlgrade.engine.runner import grade

        result = grade(course, sub.folder, names, label=sub.label, sandbox=box, device=device, lanes=lanes)
        if sub.places:  # a notebook's: messages name its cells, not the module made of them
            from dlgrade.intake.cell_places import relocated

            result = relocated(result, set(course.modules), sub.places)
    return remember(course, result) if submission is None else result


def remember(course: Course, result: GradeResult) -> GradeResult:
    """The student's loop: add the hint tiers opened, save the results for `grade list`."""
    from dlgrade.loop import state

    result = state.with_hints_opened(course, result)
    if not result.internal_errors:
        with contextlib.suppress(OSError):  # a read-only course folder (CI) grades all the same
            state.save_last(course, result)
    return result
