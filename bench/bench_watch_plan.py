"""Print what one call of a training exercise's model solution costs in a worker, with its
rules armed as the engine arms them now (the torch function mode only where `watch_plan`
says a rule needs it) and as it armed them before (the mode for any forbidden or counted call),
and, for an exercise that keeps the mode, with it off (what keeping it costs).

Both variants run in one worker, alternated call by call, so load from other jobs falls on
both alike. Figures: the median and the best of --calls round trips per variant, ms.

Usage: python bench/bench_watch_plan.py [--calls N] [--exercise ID ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from dlgrade.core.calls import Request
from dlgrade.core.manifest import load_course
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.shared import shared_sandbox
from dlgrade.sandbox.watch_plan import needs_watch

ROOT = Path(__file__).resolve().parents[1]
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
Y = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
ARGS: dict[str, Callable[[], tuple[Any, ...]]] = {
    "fit_linear": lambda: (torch.cat([X, (X[:, :1] * X[:, 1:])], 1), Y),
    "train_xor_mlp": lambda: (X, Y),
    "train_xor_linear": lambda: (X, Y),
    "layer_variances": lambda: ("he_normal",),
    "gradient_variances": lambda: ("he_normal",),
    "depth_gradient_norms": lambda: (),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=9)
    parser.add_argument("--exercise", action="append", default=[])
    args = parser.parse_args()
    course = load_course(ROOT)
    box = shared_sandbox(course.all_rule_patterns())
    print(f"load average {os.getloadavg()[0]:.2f}; per call, ms: median (best)")
    for exercise_id in args.exercise or list(ARGS):
        exercise = course.exercise(exercise_id)
        worker = box.spawn(WorkerSpec(str(ROOT / "reference"), exercise.module, 2048))
        assert worker.hello(120)["kind"] == "ready"
        engine = ExerciseSandbox(box, course, exercise, str(ROOT / "reference"), {})
        request = engine._request(exercise_id, Request(ARGS[exercise_id]()))
        before = bool(request["forbid"] or request["bounds"])  # the worker's default, watch=None
        variants = [("before", None), ("now", request["watch"])] + [("off", False)] * request["watch"]
        times: dict[str, list[float]] = {variant: [] for variant, _ in variants}
        for _ in range(args.calls):
            for variant, watch in variants:
                started = time.perf_counter()
                reply, _ = worker.request({**request, "watch": watch}, 120)
                times[variant].append(time.perf_counter() - started)
                assert reply["kind"] == "ok", reply
        worker.close()
        ms = {v: (statistics.median(t) * 1e3, min(t) * 1e3) for v, t in times.items()}
        print(
            f"{exercise_id}: mode before {'yes' if before else 'no'}, now "
            f"{'yes' if needs_watch(exercise.rules) else 'no'}; before {ms['before'][0]:.1f} "
            f"({ms['before'][1]:.1f}), now {ms['now'][0]:.1f} ({ms['now'][1]:.1f}): "
            f"{ms['before'][0] / ms['now'][0]:.2f}x"
            + (f"; off {ms['off'][0]:.1f} ({ms['off'][1]:.1f})" if "off" in ms else "")
        )


if __name__ == "__main__":
    main()
