"""`grade insight` on a large class: builds a gradebook of N synthetic submissions from one real
grading of the model solutions (each student's checks failed at random, with a few shared
failure signatures), then times reading it, the analysis and the pages. Run from the root:

    .venv/bin/python bench/bench_insight.py -n 2000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="submissions in the class")
    args = parser.parse_args()
    from dlgrade.batch.entries import Row
    from dlgrade.batch.gradebook import Gradebook, read_gradebook
    from dlgrade.batch.insight import insight
    from dlgrade.batch.insight_report import summary, write_all
    from dlgrade.core.manifest import load_course
    from dlgrade.engine.runner import grade

    course = load_course(ROOT)
    model = grade(course, course.reference_dir(), [], label="reference")
    rng = random.Random(0)
    rows = []
    for i in range(args.n):
        exercises = []
        for e in model.exercises:
            shared = rng.random() < 0.05  # a mistake many make: the same check, the same message
            checks = tuple(
                replace(
                    c, passed=False, score=0.0, message="got 1.5 at [0]; expected 1" if shared else f"got {i}"
                )
                if (shared and j == 0) or rng.random() < 0.1
                else c
                for j, c in enumerate(e.checks)
            )
            score = round(sum(c.score for c in checks), 4)
            status = "passed" if score == e.max_score else ("partial" if score else "failed")
            exercises.append(replace(e, checks=checks, score=score, status=status))
        rows.append(Row(f"s{i:05d}", "graded", "", replace(model, exercises=tuple(exercises))))
    book = Gradebook(
        course.title, tuple(e.id for e in course.exercises), model.max_score, tuple(rows), "0", args.n
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grades.json"
        path.write_text(json.dumps(book.to_dict()))
        print(f"gradebook JSON: {path.stat().st_size / 1e6:.0f} MB")
        t0 = time.perf_counter()
        loaded = read_gradebook(path)
        t1 = time.perf_counter()
        report = insight(loaded)
        t2 = time.perf_counter()
        lines = summary(report)
        write_all(report, Path(tmp) / "out", with_ids=True)
        t3 = time.perf_counter()
    checks = sum(len(e.checks) for e in model.exercises)
    print(f"{args.n} submissions, {len(model.exercises)} exercises, {checks} checks")
    print(f"read the gradebook {t1 - t0:.2f} s; analysis {t2 - t1:.2f} s; summary and pages {t3 - t2:.2f} s")
    print(f"clusters found: {len(report.clusters)}; first summary line: {lines[0]}")


if __name__ == "__main__":
    main()
