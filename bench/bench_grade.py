"""Time `grade` against `python -c "import torch"` on this machine; print medians and ratios.

Usage: python bench/bench_grade.py [--runs N] [--target TOPIC_OR_EXERCISE ...] (`all`: the whole course)

Each measurement is a fresh process (what a student pays per `grade`), run --runs times;
the figures are medians. Targets default to each topic on its own and the whole course,
all graded on the model solutions (every check runs; stubs would stop at the first call).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = Path(sys.executable).with_name("grade")


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed


def median_of(cmd: list[str], runs: int) -> float:
    timed(cmd)  # warm the file cache; not counted
    return statistics.median(timed(cmd) for _ in range(runs))


def topics() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from dlgrade.core.manifest import load_course

    return [t.id for t in load_course(ROOT).topics]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--target", action="append", default=None, help="topic or exercise, or all (repeatable)"
    )
    args = parser.parse_args()
    targets = (
        [[] if t == "all" else [t] for t in args.target] if args.target else [[t] for t in topics()] + [[]]
    )
    torch_s = median_of([sys.executable, "-c", "import torch"], args.runs)
    print(f"python -c 'import torch'         median {torch_s:6.2f} s   (runs: {args.runs})")
    rows = []
    for target in targets:
        cmd = [str(GRADE), "--submission", "reference", "--format", "json", *target]
        seconds = median_of(cmd, args.runs)
        result = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout)
        n_checks = sum(len(e["checks"]) for e in result["exercises"])
        label = " ".join(target) or "whole course"
        rows.append((label, seconds))
        print(
            f"grade {label:<26} median {seconds:6.2f} s   ratio {seconds / torch_s:4.2f}   "
            f"({len(result['exercises'])} exercises, {n_checks} checks, score "
            f"{result['score']:g}/{result['max_score']:g})"
        )


if __name__ == "__main__":
    main()
