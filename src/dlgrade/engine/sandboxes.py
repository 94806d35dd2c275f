"""The one place a course's sandbox is made. Importing this does not import torch or pytest, so
a command can start the zygote (which imports torch) before it imports them itself."""

from __future__ import annotations

from dlgrade.core import secret
from dlgrade.core.manifest import Course
from dlgrade.sandbox.pool import Sandbox
from dlgrade.sandbox.shared import shared_sandbox


def course_sandbox(course: Course, *, fresh: bool = False) -> Sandbox:
    """The sandbox for grading `course`: its zygote is shared by every run in this process with
    the same guards, or, `fresh`, a zygote of its own (a batch worker's)."""
    patterns = course.all_rule_patterns()
    return Sandbox(patterns) if fresh else shared_sandbox(patterns)


def private_paths(course: Course) -> list[str]:
    """What no worker may read: the model solutions, the graders, the known mistakes and the
    course secret (the key of hidden and fresh draws). Grading refuses a run whose workers could
    (sandbox.policy), and so do `grade doctor` and a batch before its first submission."""
    folders = (course.reference_dir(), course.graders_dir(), course.mistakes_dir())
    return [*(str(p) for p in folders), str(secret.default_path(course.root))]
