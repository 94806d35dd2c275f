"""Seconds per mutant before and after `grade dev mutants` graded only a mutant's scope.

For a seeded sample of each topic's mutants, in one process (one core), interleaved so that
the load of a shared machine falls on both alike: "whole" grades the mutant on its whole
topic in one run (the command until December 2026), "scoped" as the command does now (the
exercises that can run the mutated line, one at a time, public checks first, stopping at the
first lost point). Prints per topic the mean seconds of each and whether every verdict agrees
(a disagreement is a kill the scope hid: it is printed). Run from the repository root:

    .venv/bin/python bench/bench_mutant_scope.py xor relu_nets layers --sample 6
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from dlgrade.core.manifest import load_course  # noqa: E402
from dlgrade.dev.mutants import _grade_mutant, _observed, _submission, graded_on, mutants_of, sample  # noqa: E402
from dlgrade.engine.runner import grade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="+")
    parser.add_argument("--sample", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    course = load_course(ROOT)
    print("| topic | mutants timed | whole s/mutant | scoped s/mutant | exercises graded | verdicts agree |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for topic in args.topics:
        observed = _observed(str(ROOT), topic)
        chosen = sample(mutants_of(course, topic), args.sample, args.seed)
        whole = scoped = 0.0
        agree, scope_sizes = True, []
        for m in chosen:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                _submission(course, Path(tmp), m)
                result = grade(course, Path(tmp), [topic])
            killed_whole = result.score < result.max_score or bool(result.internal_errors)
            t1 = time.perf_counter()
            names = graded_on(course, m, observed)
            killed_scoped = _grade_mutant(str(ROOT), m, names).killed
            t2 = time.perf_counter()
            whole, scoped = whole + t1 - t0, scoped + t2 - t1
            scope_sizes.append(len(names))
            if killed_whole != killed_scoped:
                agree = False
                print(f"DISAGREE whole={killed_whole} scoped={killed_scoped}: {m.key}", flush=True)
        n = len(chosen)
        size = sum(scope_sizes) / n
        every, verdict = len(course.select([topic])), "yes" if agree else "NO"
        print(
            f"| {topic} | {n} | {whole / n:.2f} | {scoped / n:.2f} | {size:.1f} of {every} | {verdict} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
