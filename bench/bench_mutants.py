"""Per-topic mutation scores of the graders (`grade dev mutants`), for docs/mutation.md.

Generates every mutant cosmic-ray's core operators make of each topic's model solution,
grades `--sample` of them per topic (all with --sample 0) on `--jobs` worker processes,
and prints a Markdown table: mutants in the topic, graded, killed, equivalent (mutants.toml),
survived, the score, the wall time and wall seconds per graded mutant (the topic's one
reference run and the pool's start included); then each surviving mutant. Run from the repository root:

    .venv/bin/python bench/bench_mutants.py --sample 8 --jobs 2
    .venv/bin/python bench/bench_mutants.py stability --sample 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from dlgrade.core.manifest import load_course  # noqa: E402
from dlgrade.dev.mutants import mutants_of, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*")
    parser.add_argument("--sample", type=int, default=8, help="mutants per topic (0: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    course = load_course(ROOT)
    topics = args.topics or [t.id for t in course.topics]
    print("| topic | mutants | graded | killed | equivalent | survived | score | wall s | s / mutant |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    survivors = []
    for topic in topics:
        started = time.perf_counter()
        (s,) = run(course, [topic], jobs=args.jobs, per_topic=args.sample or None, seed=args.seed)
        wall = time.perf_counter() - started
        n = len(mutants_of(course, topic))
        print(
            f"| {topic} | {n} | {s.total + s.equivalent} | {s.killed} | {s.equivalent} | "
            f"{len(s.survived)} | {s.score:.1f} % | {wall:.0f} | {wall / max(1, s.total):.1f} |",
            flush=True,
        )
        survivors += [m.key for m in s.survived]
    for key in survivors:
        print(f"survived: {key}", file=sys.stderr)


if __name__ == "__main__":
    main()
