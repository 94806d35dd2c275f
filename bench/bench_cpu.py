"""Where one whole-course grade spends CPU: the grading process vs the workers (warm sandbox).

Usage: python bench/bench_cpu.py [--runs N]

Grades the model solutions once to warm the sandbox, then N more times in the same process,
printing wall time, the grading process's CPU seconds (getrusage) and the workers' (the
zygote's /proc/<pid>/stat, which counts the workers it reaped). Linux only.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from dlgrade.core.manifest import load_course
from dlgrade.engine.runner import grade
from dlgrade.engine.sandboxes import course_sandbox

ROOT = Path(__file__).resolve().parents[1]


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def zygote_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of the zygote, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    course = load_course(ROOT)
    box = course_sandbox(course)
    grade(course, course.reference_dir(), sandbox=box)  # warm-up: not counted
    pid = box._proc.pid if box._proc is not None else 0
    for _ in range(runs):
        start, me, workers = time.perf_counter(), own_cpu(), zygote_cpu(pid)
        grade(course, course.reference_dir(), sandbox=box)
        time.sleep(0.5)  # the zygote reaps the last workers in its own time
        wall = time.perf_counter() - start - 0.5
        print(
            f"whole course, warm: wall {wall:.2f} s, grading process {own_cpu() - me:.2f} CPU-s, "
            f"workers {zygote_cpu(pid) - workers:.2f} CPU-s"
        )


if __name__ == "__main__":
    main()
