"""What kernel containment costs a worker: time to apply each layer, in forked children.

Usage: python bench/bench_confine.py [--runs N]

Imports torch (as the zygote does), then forks N children; each applies `kernel.confine` (the
same call a worker makes before student code runs) and reports how long it took. Prints the
median and the 90th percentile in milliseconds, with the layers applied.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: F401 - a worker confines itself with torch loaded

from dlgrade.sandbox import kernel


def once(plan: kernel.Plan) -> float:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        folder = tempfile.mkdtemp()
        start = time.perf_counter()
        kernel.confine(plan, folder)
        os.write(write, f"{time.perf_counter() - start:.9f}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        elapsed = float(f.read() or "nan")
    os.waitpid(pid, 0)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    start = time.perf_counter()
    plan = kernel.make_plan()
    planned = time.perf_counter() - start
    times = sorted(once(plan) for _ in range(args.runs))
    print(f"layers: {', '.join(kernel.assess(plan).layers)}")
    print(f"plan (once per zygote): {planned * 1e3:.2f} ms")
    print(
        f"confine per worker: median {statistics.median(times) * 1e3:.2f} ms, "
        f"p90 {times[int(0.9 * (len(times) - 1))] * 1e3:.2f} ms over {args.runs} workers"
    )


if __name__ == "__main__":
    main()
