"""What the cyclic garbage collector costs `import torch`, and `grade`'s own imports.

Usage: python bench/bench_imports.py [--runs N]

Alternates fresh processes: `import torch` as is, `import torch` with the collector off
(`gc.disable()` first, as `dlgrade.core.imports.heavy_imports` does for grade's imports), and
the same two for `import dlgrade.engine.runner` (torch, pytest and the engine: what `grade`
imports before it grades). Prints the median wall time and user+system CPU of each, with the
load average, after one warm-up round.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    "import torch": "import torch",
    "import torch, collector off": "import gc; gc.disable(); import torch",
    "grade's imports": "import dlgrade.engine.runner",
    "grade's imports, collector off": "import gc; gc.disable(); import dlgrade.engine.runner",
}


def run(code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for i in range(runs + 1):
        for name, code in CASES.items():
            result = run(code)
            if i:
                times[name].append(result)
        print(f"round {i}{' (warm-up)' if not i else ''}: load {os.getloadavg()[0]:.2f}", flush=True)
    for name, rows in times.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"{name:32s} wall {wall:.3f} s   CPU {cpu:.3f} s")


if __name__ == "__main__":
    main()
