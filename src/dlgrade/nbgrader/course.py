"""`grade nbgrader COURSE_DIR`: write an nbgrader course that grades with this course's graders.

COURSE_DIR/
  nbgrader_config.py            course id, which dlgrade course grades, kernel and timeouts
  source/<topic>/<topic>.ipynb  one assignment per topic holding one notebook

COURSE_DIR must be new or empty; with `force`, the files above are rewritten in place and
everything else there (gradebook, submissions, releases) is left alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course, ManifestError, Topic
from dlgrade.dev.check import require_stubs
from dlgrade.nbgrader.cells import SourceError
from dlgrade.nbgrader.notebook import topic_notebook

CONFIG_NAME = "nbgrader_config.py"
# Seconds a cell may run before nbgrader interrupts it and goes on with the next cell. A
# check cell grades one exercise (every call of the student's function is already cut at
# the exercise's time_limit), so this bounds a student cell that loops in the kernel.
DEFAULT_CELL_TIMEOUT = 300


class NbgraderCourseError(ValueError):
    """The nbgrader course cannot be written as asked; the message is one line."""


def write_nbgrader_course(
    course: Course,
    dest: Path,
    topics: Sequence[str] = (),
    *,
    force: bool = False,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
) -> list[Path]:
    """Write the config and one source notebook per topic (all topics unless named); return the files."""
    chosen = _topics(course, topics)
    require_stubs(course, "an nbgrader course")
    if cell_timeout <= 0:
        raise NbgraderCourseError(
            f"the cell timeout must be a positive number of seconds, not {cell_timeout}"
        )
    if dest.exists() and not dest.is_dir():
        raise NbgraderCourseError(f"{dest} is a file; give a folder for the nbgrader course")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise NbgraderCourseError(
            f"{dest} is not empty; use --force to rewrite its config and source notebooks"
        )
    files: dict[Path, str] = {dest / CONFIG_NAME: config_source(course, dest, cell_timeout)}
    for topic in chosen:
        try:
            notebook = topic_notebook(course, topic)
        except (SourceError, SyntaxError, OSError) as exc:
            raise NbgraderCourseError(f"topic {topic.id}: {exc}") from None
        files[dest / "source" / topic.id / f"{topic.id}.ipynb"] = json.dumps(notebook, indent=1) + "\n"
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    return list(files)


def config_source(course: Course, dest: Path, cell_timeout: int) -> str:
    """nbgrader_config.py: paths relative to itself, so the course folder can move with the course."""
    return CONFIG_TEMPLATE.format(
        title=course.title,
        course_id=_slug(course.title) or "dlgrade",
        dlgrade_course=_relative(course.root, dest),
        timeout=int(cell_timeout),
    )


CONFIG_TEMPLATE = '''\
"""nbgrader configuration for "{title}", written by `grade nbgrader`.

The check cells call dlgrade's graders (`dlgrade.notebook.cells.grade_cell`), which grade with the
dlgrade course in DLGRADE_COURSE below. Regenerate with `grade nbgrader --force`.
"""

import os

c = get_config()  # noqa: F821 - nbgrader provides get_config when it loads this file
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "{course_id}"

# Kernels inherit this environment: their check cells grade with this dlgrade course.
os.environ["DLGRADE_COURSE"] = os.path.normpath(os.path.join(here, {dlgrade_course!r}))

# The points of the check cells: `nbgrader autograde` grades each submitted notebook's code
# with dlgrade, in dlgrade's sandbox, and records those points and lines in the check cells.
# The student's cells are not run in a kernel: nothing confines a kernel on this machine.
# `autograde_preprocessors(run_student_cells=True)` runs them too (their outputs then show in
# feedback), as the user running nbgrader: only in a container or as a user who owns nothing
# else (dlgrade's docs/nbgrader.md, "Limits"). Keep these lines.
from dlgrade.nbgrader.autograde import autograde_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.RegradeNotebook.timeout = {timeout}  # seconds per exercise for that grading to answer

# Kernels listen on loopback only, so autograding needs no network.
c.KernelManager.transport = "tcp"
c.KernelManager.ip = "127.0.0.1"

# A cell running longer than this is interrupted (a student's loop, say) and the run goes on
# with the next cell: `nbgrader validate`, and autograde with run_student_cells=True. Keep it
# above the slowest exercise's grading time.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120  # seconds for a kernel to start on a busy machine
c.Execute.iopub_timeout = 30  # seconds to wait for a cell's last output after it finished
'''


def _topics(course: Course, names: Sequence[str]) -> list[Topic]:
    if not names:
        return list(course.topics)
    known = {t.id for t in course.topics}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ManifestError(f"unknown topic {unknown[0]!r}; topics: {', '.join(sorted(known))}")
    return [t for t in course.topics if t.id in names]


def _relative(target: Path, dest: Path) -> str:
    """`target` relative to `dest` when `dest` lies inside it (they move together), else absolute."""
    target, dest = target.resolve(), dest.resolve()
    return os.path.relpath(target, dest) if dest.is_relative_to(target) else str(target)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
