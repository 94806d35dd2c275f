"""Autograding through nbgrader against `grade` on the same code: seconds per submission.

Writes an nbgrader course for one topic (`grade nbgrader`), releases it, submits notebooks
(the model solutions, the untouched stubs and every known-wrong file of the topic, as the
pipeline test does), times one `nbgrader autograde` over all of them, then times
`grade --submission FOLDER TOPIC` (a fresh process each, as a student or CI runs it) on the
code of each submitted notebook. With `--kernel-points`, also times `nbgrader autograde` on a
copy of the course whose nbgrader_config.py lacks the out-of-band step
(`dlgrade.nbgrader.autograde`): the points then come from the check cells run in the
kernel, as before that step existed. Prints the figures; asserts nothing.

Usage: python bench/bench_nbgrader.py [--topic stability] [--keep DIR] [--kernel-points]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the submissions are built by the tests' helpers

from dlgrade.core.manifest import load_course  # noqa: E402
from dlgrade.intake.notebook_code import module_source, notebook_cells  # noqa: E402
from tests.nbgrader_support import (  # noqa: E402
    filled,
    model_answers,
    nbgrader,
    read_notebook,
    submit,
    with_variant,
)
from tests.support import variants  # noqa: E402


def build(where: Path, topic: str) -> list[str]:
    """The nbgrader course with its submissions; returns the student ids."""
    grade = Path(sys.executable).with_name("grade")
    subprocess.run([grade, "nbgrader", str(where), topic], cwd=ROOT, check=True, capture_output=True)
    nbgrader(where, "generate_assignment", topic)
    release = read_notebook(where / "release" / topic / f"{topic}.ipynb")
    answers = model_answers(read_notebook(where / "source" / topic / f"{topic}.ipynb"))
    module = load_course(ROOT).topic(topic).module
    submissions = {"reference": filled(release, answers), "stubs": release}
    for v in variants(module):
        submissions[v.path.stem] = filled(release, with_variant(answers, v.path))
    for student, notebook in submissions.items():
        submit(where, student, topic, topic, notebook)
    return list(submissions)


def without_out_of_band(where: Path) -> Path:
    """A copy of the course whose config leaves the points to the kernel's check cells."""
    copy = where.with_name(where.name + "-kernel-points")
    shutil.copytree(where, copy)
    config = copy / "nbgrader_config.py"
    lines = config.read_text().splitlines(keepends=True)
    dropped = [line for line in lines if "autograde_preprocessors" not in line]
    assert len(lines) - len(dropped) == 2, "the config's out-of-band lines have changed"
    config.write_text("".join(dropped))
    return copy


def grade_times(where: Path, topic: str, students: list[str]) -> list[float]:
    """Wall time of `grade --submission FOLDER TOPIC` on each submitted notebook's code."""
    grade = Path(sys.executable).with_name("grade")
    module = load_course(ROOT).topic(topic).module
    out = []
    for student in students:
        folder = where / "code" / student
        folder.mkdir(parents=True)
        cells = notebook_cells(where / "submitted" / student / topic / f"{topic}.ipynb")
        (folder / f"{module}.py").write_text(module_source(cells))
        started = time.perf_counter()
        subprocess.run([grade, "--submission", str(folder), topic], cwd=ROOT, check=True, capture_output=True)
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="stability")
    parser.add_argument("--keep", type=Path, help="build the course here and keep it")
    parser.add_argument("--kernel-points", action="store_true", help="also time the kernel-graded path")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    where = base / "course"
    in_kernel = None
    try:
        students = build(where, args.topic)
        if args.kernel_points:
            in_kernel = nbgrader(without_out_of_band(where), "autograde", args.topic)
        autograde = nbgrader(where, "autograde", args.topic)
        export = nbgrader(where, "export")
        times = grade_times(where, args.topic, students)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    n = len(students)
    print(f"topic {args.topic}: {n} submissions, {os.cpu_count()} CPUs")
    print(f"nbgrader autograde (all {n}):   {autograde:7.1f} s  = {autograde / n:5.1f} s per submission")
    if in_kernel is not None:
        print(f"  points from the kernel (old): {in_kernel:7.1f} s  = {in_kernel / n:5.1f} s per submission")
    print(f"nbgrader export:               {export:7.1f} s")
    mean = statistics.mean(times)
    print(
        f"grade --submission (each):     {sum(times):7.1f} s  = {mean:5.1f} s per submission "
        f"(min {min(times):.1f}, max {max(times):.1f})"
    )


if __name__ == "__main__":
    main()
