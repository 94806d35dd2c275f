"""Whole-course `grade` of the model solutions with a worker per exercise and with one device
worker per submission, on the CPU and on a device (docs/performance.md, "Graders on a GPU").

Usage: python bench/bench_device_worker.py [--device cuda] [--rounds N]

Each round runs a fresh `grade --submission reference --format json` for every (device, mode)
pair in turn (alternated, so that the machine's load falls on all of them alike), with
DLGRADE_DEVICE_WORKER set to the mode; it prints each pair's median and best wall time, the
device's time over the CPU's for each mode, the load average, and whether each device's JSON
(less the run's duration) is the same in both modes. `--device cpu` (no GPU) measures what
the device-worker mode costs on the CPU. Needs a machine with DEVICE for anything else; CI
does not run it.
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

ROOT = Path(__file__).resolve().parents[1]
GRADE = Path(sys.executable).with_name("grade")
MODES = ("exercise", "submission")


def run(device: str, mode: str) -> tuple[float, str]:
    """One fresh `grade` of the reference: its wall time and its JSON less the duration."""
    env = {**os.environ, "DLGRADE_DEVICE_WORKER": mode}
    start = time.perf_counter()
    proc = subprocess.run(
        [str(GRADE), "--submission", "reference", "--format", "json", "--device", device],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    spent = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"grade on {device} ({mode}) failed: {proc.stderr.strip()[-300:]}")
    doc = json.loads(proc.stdout)
    doc.pop("duration_s", None)
    return spent, json.dumps(doc, sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    devices = ["cpu"] if args.device == "cpu" else ["cpu", args.device]
    pairs = [(d, m) for d in devices for m in MODES]
    times: dict[tuple[str, str], list[float]] = {p: [] for p in pairs}
    outputs: dict[tuple[str, str], set[str]] = {p: set() for p in pairs}
    loads = []
    for _ in range(args.rounds):
        for pair in pairs:
            spent, out = run(*pair)
            times[pair].append(spent)
            outputs[pair].add(out)
        loads.append(os.getloadavg()[0])
    med = {p: statistics.median(t) for p, t in times.items()}
    for device, mode in pairs:
        t = times[(device, mode)]
        print(f"{device:>8} {mode:>10}: median {statistics.median(t):6.2f} s, best {min(t):6.2f} s")
    for device in devices:
        same = outputs[(device, "exercise")] == outputs[(device, "submission")]
        ratio = med[(device, "submission")] / med[(device, "exercise")]
        print(f"{device}: submission / exercise {ratio:.2f}; JSON the same in both modes: {same}")
    if len(devices) > 1:
        for mode in MODES:
            ratio = med[(args.device, mode)] / med[("cpu", mode)]
            print(f"{mode}: {args.device} / cpu {ratio:.2f}")
        best = med[(args.device, "submission")] / med[("cpu", "exercise")]
        print(f"{args.device} with a device worker / cpu's default: {best:.2f} (goal: at most 1.5)")
    print(f"load average (1 min) after each round: {', '.join(f'{x:.1f}' for x in loads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
