"""Print how long grading topics `xor` and `relu_nets` takes on the model solutions.

Cold: a fresh `grade xor relu_nets --submission reference --format json` process (Python start,
imports, sandbox start, grading). Warm: the same grading again in one process whose sandbox
is already running (what a second `grade` run in a notebook or a batch costs), per exercise
and in all. Figures: median of --repeat runs, wall-clock seconds, and this process's CPU time.

Usage: python bench/bench_nonlinear.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dlgrade.core.manifest import load_course
from dlgrade.engine.runner import grade

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("xor", "relu_nets")


def cold() -> tuple[float, float]:
    """(wall seconds of a fresh `grade` process, the duration it reports for grading itself)."""
    started = time.perf_counter()
    grade_cli = str(Path(sys.executable).with_name("grade"))
    out = subprocess.run(
        [grade_cli, *TOPICS, "--submission", "reference", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - started
    result = json.loads(out)
    assert result["score"] == result["max_score"], "the reference must get full marks"
    return wall, float(result["duration_s"])


def warm(names: tuple[str, ...]) -> tuple[float, float]:
    """(wall, CPU seconds of this process) for grading `names` once more, sandbox already up."""
    course = load_course(ROOT)
    wall0, cpu0 = time.perf_counter(), os.times()
    result = grade(course, course.reference_dir(), names)
    cpu1 = os.times()
    assert result.score == result.max_score
    return time.perf_counter() - wall0, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    n = parser.parse_args().repeat
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    colds = [cold() for _ in range(n)]
    print(
        f"cold  grade {' '.join(TOPICS)} --submission reference: "
        f"{statistics.median(w for w, _ in colds):.2f} s wall "
        f"(grading itself {statistics.median(d for _, d in colds):.2f} s)"
    )
    warm(TOPICS)  # start the sandbox and import the graders once
    course = load_course(ROOT)
    rows = [(e.id, [warm((e.id,)) for _ in range(n)]) for e in course.exercises if e.topic in TOPICS]
    rows.append(("all of " + " + ".join(TOPICS), [warm(TOPICS) for _ in range(n)]))
    for name, runs in rows:
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"warm  {name:<28} {wall:6.2f} s wall  {cpu:6.2f} s CPU in the grading process")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
