"""Every resource of a worker has a total, and nothing a worker wrote outlives the grading run:
threads past the task cap are refused whatever the uid, and a `grade` killed mid-run leaves no
work folder behind (the janitor removes it). The disk totals: tests/fixtures/hostile/native_floods_disk.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.sandbox import workspace
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.pool import Sandbox
from tests.support import with_appended

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel totals are Linux's")


def _eventually(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@LINUX
def test_a_worker_gets_no_more_threads_than_its_task_cap(tmp_path: Path) -> None:
    """3,000 threads with small stacks (the memory cap would allow them all): the kernel stops
    them at the worker's task cap, as root (a pids cgroup) and as anyone else (RLIMIT_NPROC in
    the worker's own user namespace). No course rules here: the module imports _thread itself."""
    (tmp_path / "flood.py").write_text(
        "import _thread, time\n"
        "def threads():\n"
        "    _thread.stack_size(64 << 10)\n"
        "    started = 0\n"
        "    for _ in range(3000):\n"
        "        try:\n"
        "            _thread.start_new_thread(time.sleep, (60,))\n"
        "        except RuntimeError:\n"
        "            break\n"
        "        started += 1\n"
        "    return started\n"
    )
    box = Sandbox([])
    try:
        worker = box.spawn(WorkerSpec(str(tmp_path), "flood", 2048))
        assert worker.hello(60)["kind"] == "ready"
        reply, _ = worker.request({"op": "call", "fn": "threads", "args": [], "kwargs": {}}, 60)
        assert reply["kind"] == "ok", reply
        assert 0 < reply["value"] < workspace.TASKS
        worker.close()
    finally:
        box.close()


@LINUX
def test_a_killed_grade_leaves_no_work_folder(course: Course, tmp_path: Path) -> None:
    """`grade` is SIGKILLed while a worker that wrote 8 MiB sleeps in its call: its zygote dies
    with it, and the janitor removes the work folder (and the workers' cgroups)."""
    submission = tmp_path / "sub"
    addition = tmp_path / "sleeps.py"
    addition.write_text(
        "import readline, time\n"
        "for _ in range(8):\n"
        "    readline.add_history('x' * 1000000)\n"
        "readline.write_history_file('dlgrade-pwned-leftover')\n"
        "def logsumexp(x, dim=-1, keepdim=False):\n"
        "    time.sleep(600)\n"
    )
    with_appended(course, "stability", addition, submission)
    temp = tmp_path / "tmp"
    temp.mkdir()
    os.chmod(temp, 0o1777)
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("grade")), "stability", "--submission", str(submission)],
        cwd=course.root,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # a worker's folder exists for as long as the run lasts (each call sleeps to its limit)
        assert _eventually(lambda: any(p.is_dir() for p in temp.glob("dlgrade-sandbox-*/*")), 240)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _eventually(lambda: not list(temp.glob("dlgrade-sandbox-*")), 60), list(temp.iterdir())
