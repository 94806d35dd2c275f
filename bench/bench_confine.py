"""What kernel containment costs a worker: time to apply each layer, in forked children.

Usage: python bench/bench_confine.py [--runs N]

Imports torch (as the zygote does), then forks N children; each sets up its folder's and tasks'
totals (`workspace.apply`: a tmpfs in a namespace of its own, a pids cgroup or RLIMIT_NPROC) and
applies `kernel.confine` (the same calls a worker makes before student code runs) and reports
how long each took. Prints medians and 90th percentiles in milliseconds, with the layers applied.
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

from dlgrade.sandbox import kernel, syscall, workspace


def once(plan: kernel.Plan, groups: str | None) -> tuple[float, float]:
    """(totals, confine) in seconds for one forked worker."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        folder = tempfile.mkdtemp()
        start = time.perf_counter()
        missing = workspace.apply(syscall.libc(), folder, groups)
        totals = time.perf_counter() - start if not missing else float("nan")
        start = time.perf_counter()
        kernel.confine(plan, folder)
        os.write(write, f"{totals:.9f} {time.perf_counter() - start:.9f}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        totals, confine = (float(x) for x in (f.read() or "nan nan").split())
    os.waitpid(pid, 0)
    workspace.remove_groups(groups, str(pid))
    return totals, confine


def _summary(what: str, times: list[float], runs: int) -> str:
    times = sorted(times)
    return (
        f"{what} per worker: median {statistics.median(times) * 1e3:.2f} ms, "
        f"p90 {times[int(0.9 * (len(times) - 1))] * 1e3:.2f} ms over {runs} workers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    start = time.perf_counter()
    plan = kernel.make_plan()
    planned = time.perf_counter() - start
    groups = workspace.tasks_parent()
    try:
        runs = [once(plan, groups) for _ in range(args.runs)]
    finally:
        workspace.remove_groups(groups)
    print(f"layers: {', '.join(kernel.assess(plan).layers)}")
    print(f"plan (once per zygote): {planned * 1e3:.2f} ms")
    print(_summary("folder and task totals (nan: missing here)", [t for t, _ in runs], args.runs))
    print(_summary("confine", [c for _, c in runs], args.runs))


if __name__ == "__main__":
    main()
