"""Print what the run-time guards add to each torch operation of an armed call.

Installs the course's guards in this process (as the zygote does), then times a loop of
small tensor operations unguarded and armed with one exercise's rules (the torch function
mode of `dlgrade/sandbox/guards.py` sees every operation). Figures: the best of --repeat
runs, milliseconds, and the difference per operation in microseconds.

Usage: python bench/bench_guards.py [--repeat N] [--exercise ID] [--ops N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from dlgrade.core.manifest import load_course
from dlgrade.sandbox import guards

ROOT = Path(__file__).resolve().parents[1]


def best_of(repeat: int, forbid: dict[str, str], steps: int) -> float:
    x = torch.randn(8, 8)
    best = float("inf")
    for _ in range(repeat):
        guards.STATE.arm(forbid, {})
        started = time.perf_counter()
        y = x
        for _ in range(steps):
            y = (y * 0.5 + x).relu()  # three torch operations
        best = min(best, time.perf_counter() - started)
        guards.STATE.disarm()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--exercise", default="stable_softmax")
    parser.add_argument("--ops", type=int, default=6000)
    args = parser.parse_args()
    course = load_course(ROOT)
    guards.install(list(course.all_rule_patterns()))
    steps = args.ops // 3
    plain = best_of(args.repeat, {}, steps)
    armed = best_of(args.repeat, course.exercise(args.exercise).rules.forbidden_calls(), steps)
    print(
        f"{3 * steps} torch operations: unguarded {plain * 1e3:.1f} ms, armed with {args.exercise}'s rules "
        f"{armed * 1e3:.1f} ms: +{(armed - plain) / (3 * steps) * 1e6:.2f} us per operation"
    )


if __name__ == "__main__":
    main()
