"""Time `grade watch` from a saved file to the redrawn screen, next to a fresh `grade` of that topic.

Usage: python bench/bench_watch.py [--runs N] [--topic TOPIC]

Works on a copy of the course in a temporary folder. `grade watch TOPIC` runs in a
pseudo-terminal; each run writes the topic's module (the model solution and a known-wrong
version, in turn, so every save changes the grade) and waits until the screen's run counter
moves on: the time from just before the write to the redrawn screen. The fresh `grade TOPIC`
runs as a new process on the same files, what a student pays without watch. Medians.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = Path(sys.executable).with_name("grade")


class Pane:
    """`grade watch` in a pseudo-terminal, with everything it has drawn so far."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
        self.proc = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.text, self.lock = "", threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.text += chunk.decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if needle in self.text:
                    return time.perf_counter()
            time.sleep(0.001)
        raise SystemExit(f"grade watch never showed {needle!r}:\n{self.text[-2000:]}")

    def quit(self) -> None:
        os.write(self.master, b"q")
        self.proc.wait(timeout=30)


def course_copy(dest: Path) -> Path:
    for name in ("course.toml", "exercises", "reference", "graders"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, dest / name)
    return dest


def versions(root: Path, module: str) -> list[str]:
    """Two versions of the module: the model solution and the first known-wrong file appended."""
    right = (root / "reference" / f"{module}.py").read_text()
    wrong = sorted((ROOT / "mistakes" / module).glob("*.py"))
    return [right, right + "\n\n" + wrong[0].read_text()] if wrong else [right, right + "\n# saved again\n"]


def watch_latencies(root: Path, topic: str, module: str, runs: int) -> list[float]:
    pane = Pane([str(GRADE), "watch", topic], root)
    pane.wait_for("run #1 ")
    texts, out = versions(root, module), []
    try:
        for n in range(runs):
            time.sleep(0.3)  # the screen is idle, as it is when a student saves
            target = root / "exercises" / f"{module}.py"
            start = time.perf_counter()
            target.write_text(texts[n % 2])
            out.append(pane.wait_for(f"run #{n + 2} ") - start)
    finally:
        pane.quit()
    return out


def fresh_grade(root: Path, topic: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs + 1):  # the first warms the file cache and is not counted
        start = time.perf_counter()
        subprocess.run([str(GRADE), topic], cwd=root, capture_output=True, check=True)
        out.append(time.perf_counter() - start)
    return out[1:]


def figure(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    return f"{label:<38} median {median:6.3f} s  (min {min(times):.3f}, max {max(times):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--topic", default="stability")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from dlgrade.core.manifest import load_course

    module = load_course(ROOT).topic(args.topic).module
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-watch-") as folder:
        root = course_copy(Path(folder))
        watch = watch_latencies(root, args.topic, module, args.runs)
        fresh = fresh_grade(root, args.topic, max(3, args.runs // 3))
    w, f = statistics.median(watch), statistics.median(fresh)
    print(f"topic {args.topic}: {args.runs} saves under grade watch, {len(fresh)} fresh grade runs")
    print(figure("grade watch, save -> redrawn screen", watch))
    print(figure(f"grade {args.topic}, fresh process", fresh))
    print(f"watch is {f / w:.1f}x faster; goal <= 0.3 s: {'met' if w <= 0.3 else 'not met'}")


if __name__ == "__main__":
    main()
