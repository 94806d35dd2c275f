"""The one place a course's sandbox is made. Importing this does not import torch or pytest, so
a command can start the zygote (which imports torch) before it imports them itself."""

from __future__ import annotations

from dlgrade.core.manifest import Course
from dlgrade.sandbox.pool import Sandbox
from dlgrade.sandbox.shared import shared_sandbox


def course_sandbox(course: Course, *, fresh: bool = False) -> Sandbox:
    """The sandbox for grading `course`: its zygote is shared by every run in this process with
    the same guards, or, `fresh`, a zygote of its own (a batch worker's)."""
    patterns = course.all_rule_patterns()
    return Sandbox(patterns) if fresh else shared_sandbox(patterns)
