"""The library functions the CLI forwards to. Importing this module does not import torch."""

from __future__ import annotations

from collections.abc import Sequence

from dlgrade.manifest import Course
from dlgrade.result import GradeResult
from dlgrade.sandbox.pool import shared_sandbox
from dlgrade.submission import open_submission


def grade_submission(
    course: Course, submission: str | None = None, names: Sequence[str] = (), *, device: str = "cpu"
) -> GradeResult:
    """Grade one submission (None: the course's exercises/; 'reference'; a folder).

    The sandbox's zygote starts before this process imports torch, so both imports overlap.
    """
    course.select(list(names))  # unknown names fail before any work starts
    with open_submission(course, submission) as sub:
        box = shared_sandbox(course.all_rule_patterns())
        from dlgrade.runner import grade  # imports torch and pytest

        return grade(course, sub.folder, names, label=sub.label, sandbox=box, device=device)
