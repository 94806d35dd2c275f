"""Batch grading throughput: `grade batch` against grading the same submissions one by one.

Generates N submissions (correct, wrong, stub, nested zips, crashing code, hostile archives,
cycled), then times, as real processes:
  * `grade batch DIR [NAMES] --jobs J` for each J in --jobs (wall clock, startup included);
  * `grade --submission X [NAMES] --format json` for a sample of the same submissions, one
    process each, which is what grading them one by one costs (extrapolated to all N).
Prints submissions per second, wall and CPU seconds per submission (CPU: the whole process
tree, a figure that other load on the machine disturbs less), and the speed-up over one by one
and over nbgrader's measured 3.4 s per submission. Run from the repository root:

    .venv/bin/python bench/bench_batch.py -n 60 --jobs 1,2 --sample 6
    .venv/bin/python bench/bench_batch.py -n 60 --names stability
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlgrade.core.manifest import load_course  # noqa: E402 - after the path above
from tests.submissions import mixed_batch  # noqa: E402

NBGRADER_S_PER_SUBMISSION = 3.4  # measured on this machine for one 3-check exercise
GRADE = str(Path(sys.executable).with_name("grade"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree) of one command."""
    started, cpu = time.perf_counter(), _children_cpu()
    run = subprocess.run(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode not in (0, 2, 3):
        sys.exit(f"{' '.join(args[:3])} ... failed ({run.returncode}): {run.stderr[-500:]}")
    return elapsed, _children_cpu() - cpu


def batch(folder: Path, out: Path, names: list[str], jobs: int) -> dict[str, float]:
    csv = out / f"grades-j{jobs}.csv"
    seconds, cpu = timed([GRADE, "batch", str(folder), *names, "--jobs", str(jobs), "--csv", str(csv)])
    book = json.loads(csv.with_suffix(".json").read_text())
    graded = [r["result"] for r in book["rows"] if r["result"]]
    return {
        "seconds": seconds,
        "cpu": cpu,
        "n": len(book["rows"]),
        "grading_s": sum(r["duration_s"] for r in graded) / max(len(graded), 1),
        **{status: float(n) for status, n in book["counts"].items()},
    }


def one_by_one(folder: Path, names: list[str], sample: int) -> tuple[float, float]:
    """Mean (wall, CPU) seconds per submission, each graded by its own `grade` process."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    step = max(1, len(entries) // sample)
    chosen = entries[::step][:sample]
    runs = [timed([GRADE, *names, "--submission", str(p), "--format", "json"]) for p in chosen]
    return sum(r[0] for r in runs) / len(runs), sum(r[1] for r in runs) / len(runs)


def report(label: str, n: int, seconds: float, cpu: float, serial: float) -> None:
    per = seconds / n
    print(
        f"{label:<26} {n:>5} {seconds:>9.1f} {n / seconds:>9.2f} {per:>9.3f} {cpu / n:>9.3f} "
        f"{serial / per:>8.1f}x {NBGRADER_S_PER_SUBMISSION / per:>8.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="number of submissions (default 60)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time (default 1,2)")
    parser.add_argument("--sample", type=int, default=6, help="submissions graded one by one (default 6)")
    parser.add_argument("--names", nargs="*", default=[], help="topics or exercises (default: all)")
    args = parser.parse_args()
    course = load_course(ROOT)
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as tmp:
        folder, out = Path(tmp) / "submissions", Path(tmp) / "out"
        out.mkdir()
        kinds = mixed_batch(course, folder, args.n, Path(tmp) / "outside" / "escaped")
        mix = {k: list(kinds.values()).count(k) for k in sorted(set(kinds.values()))}
        scope = " ".join(args.names) or f"whole course ({len(course.exercises)} exercises)"
        print(f"{args.n} submissions, {scope}; {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.1f}")
        print("mix: " + ", ".join(f"{n} {k}" for k, n in mix.items()))
        serial, serial_cpu = one_by_one(folder, args.names, args.sample)
        columns = ("subs", "seconds", "subs/s", "s/sub", "cpu s/sub", "vs 1by1", "vs nbg")
        print(f"{'mode':<26} {columns[0]:>5} " + " ".join(f"{c:>9}" for c in columns[1:]))
        report(f"one by one (sample {args.sample})", args.n, serial * args.n, serial_cpu * args.n, serial)
        for jobs in (int(j) for j in args.jobs.split(",")):
            run = batch(folder, out, args.names, jobs)
            report(f"grade batch --jobs {jobs}", int(run["n"]), run["seconds"], run["cpu"], serial)
            print(
                f"{'':<26} rows: {run['graded']:.0f} graded, {run['rejected']:.0f} rejected, "
                f"{run['error']:.0f} error; grading alone {run['grading_s']:.3f} s per graded submission"
            )
        print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
