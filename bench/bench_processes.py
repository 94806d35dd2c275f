"""Where a cold `grade` spends CPU, process by process: the grading process, its lanes, the
zygotes and each worker, beside `python -c "import torch"`.

Usage: python bench/bench_processes.py [--runs N] [TARGET ...]   (no target: the whole course)

Each run is a fresh `grade --submission reference --format json TARGET...` (what a student
pays). While it runs, every process below it is sampled from /proc every 2 ms (its CPU time
from /proc/<pid>/schedstat, in nanoseconds); a process's figure is its last sample, so each
can be short by up to one interval. The whole run's user and system time and its page faults
come from getrusage of the children (exact for what was reaped). Prints medians over the runs.
Linux only. Roles: the grading process (it imports torch, runs pytest, the graders and the
model solutions); lanes (forks of it, `--lanes`); the zygote (imports torch again, forks the
workers); a lane's zygote (a fork of the zygote) and the janitor (the zygote's first child);
workers (one per exercise: the fork, the kernel layers, the student's module and calls).
Counts are medians over the runs.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = Path(sys.executable).with_name("grade")


class Tree:
    """pid -> parent, CPU ns and when first seen, for every process seen during a run."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.cpu: dict[int, int] = {}
        self.first: dict[int, float] = {}

    def scan(self, now: float) -> None:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            try:
                with open(f"/proc/{pid}/schedstat") as f:
                    ns = int(f.read().split()[0])
                if pid not in self.parent:
                    with open(f"/proc/{pid}/stat") as f:
                        stat = f.read()
                    self.parent[pid] = int(stat[stat.rfind(")") + 2 :].split()[1])
                    self.first[pid] = now
            except (OSError, ValueError, IndexError):
                continue  # gone between listdir and read
            self.cpu[pid] = ns

    def children(self, pid: int) -> list[int]:
        return sorted((p for p, q in self.parent.items() if q == pid), key=lambda p: self.first[p])

    def roles(self, root: int) -> dict[str, list[float]]:
        """CPU seconds of each process below `root`, by role."""
        out: dict[str, list[float]] = collections.defaultdict(list)

        def add(role: str, pid: int) -> None:
            out[role].append(self.cpu.get(pid, 0) / 1e9)

        add("grading process", root)
        for child in self.children(root):
            if not self.children(child):  # a lane forks nothing; the zygote forks everything
                add("lanes", child)
                continue
            add("zygote", child)
            for z_child in self.children(child):
                grandchildren = self.children(z_child)
                if self.first[z_child] - self.first[child] < 0.3:  # forked before torch's import
                    add("janitor", z_child)
                elif grandchildren:
                    add("lane zygotes", z_child)
                    for worker in grandchildren:
                        add("workers", worker)
                else:
                    add("workers", z_child)
        return out


def run_once(cmd: list[str]) -> tuple[float, dict[str, list[float]], tuple[float, float, int]]:
    tree = Tree()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        tree.scan(time.perf_counter() - start)
        time.sleep(0.002)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = (
        after.ru_utime - before.ru_utime,
        after.ru_stime - before.ru_stime,
        after.ru_minflt - before.ru_minflt,
    )
    return wall, tree.roles(proc.pid), usage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("targets", nargs="*", help="topics or exercises (none: the whole course)")
    args = parser.parse_args()
    torch_runs = [run_once([sys.executable, "-c", "import torch"]) for _ in range(args.runs + 1)][1:]
    cmd = [str(GRADE), "--submission", "reference", "--format", "json", *args.targets]
    runs = [run_once(cmd) for _ in range(args.runs + 1)][1:]  # the first warms the file cache

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    for label, measured in (
        ("python -c 'import torch'", torch_runs),
        ("grade " + (" ".join(args.targets) or "(whole course)"), runs),
    ):
        walls = [w for w, _, _ in measured]
        user, system, faults = (med([u[i] for _, _, u in measured]) for i in range(3))
        print(f"{label}: wall {med(walls):.2f} s; CPU user {user:.2f} s + system {system:.2f} s; "
              f"{faults:,.0f} page faults")  # fmt: skip
    for role in ("grading process", "lanes", "zygote", "lane zygotes", "janitor", "workers"):
        per_run = [r.get(role, []) for _, r, _ in runs]
        total = med([sum(v) for v in per_run])
        count = med([len(v) for v in per_run])
        line = f"  {role:<16} {count:4.0f} process(es)  CPU {total:5.2f} s"
        if role == "workers" and any(per_run):
            each = sorted(x * 1000 for v in per_run for x in v)
            line += (f"  (each, ms: min {each[0]:.0f}, median {med(each):.0f}, "
                     f"90th {each[int(0.9 * (len(each) - 1))]:.0f}, max {each[-1]:.0f})")  # fmt: skip
        print(line)


if __name__ == "__main__":
    main()
