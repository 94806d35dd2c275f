"""Time `grade` from this checkout and from another, alternated, against `import torch`.

Usage: python bench/bench_grade_pair.py OTHER_CHECKOUT [--runs N] [--target T ...]

OTHER_CHECKOUT is a checkout of another commit with its own virtual environment (`.venv`,
an editable install of that checkout). Each iteration runs, as fresh processes,
`python -c "import torch"` and then `grade --submission reference --format json TARGET` from
each checkout for each target (`all`: the whole course), so both commits bear the same load;
the first iteration warms the file cache and is not counted. Prints medians and their ratios
to `import torch`, and the load average of each iteration.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench_grade import ROOT, timed  # bench/ is the script's own folder on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", action="append", default=None, help="topic or exercise, or all")
    args = parser.parse_args()
    checkouts = {"this": ROOT, "other": args.other.resolve()}
    for name, root in checkouts.items():
        if not (root / ".venv" / "bin" / "grade").exists():
            raise SystemExit(f"{name} checkout {root} has no .venv/bin/grade")
    targets = [[] if t == "all" else [t] for t in (args.target or ["stability", "all"])]
    times: dict[tuple[str, str], list[float]] = {}
    for i in range(args.runs + 1):
        row = {("torch", ""): timed([sys.executable, "-c", "import torch"], ROOT)}
        for name, root in checkouts.items():
            for target in targets:
                cmd = [str(root / ".venv" / "bin" / "grade"), "--submission", "reference", "--format", "json"]
                row[(name, " ".join(target) or "whole course")] = timed(cmd + target, root)
        print(f"iteration {i}{' (warm-up)' if i == 0 else ''}: load {os.getloadavg()[0]:.2f}", flush=True)
        if i:
            for key, seconds in row.items():
                times.setdefault(key, []).append(seconds)
    torch_s = statistics.median(times.pop(("torch", "")))
    print(f"python -c 'import torch'  median {torch_s:6.2f} s")
    for (name, label), values in times.items():
        seconds = statistics.median(values)
        print(f"{name:<5} grade {label:<20} median {seconds:6.2f} s   ratio {seconds / torch_s:4.2f}")


if __name__ == "__main__":
    main()
