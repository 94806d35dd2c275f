"""No process that serves several submissions holds one's data: the zygote's memory holds nothing
of a submission it forked a worker for, and a later submission that scans its own worker's memory
finds nothing of an earlier one, in a real `grade batch`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course, load_course
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.pool import Sandbox
from tests.courses import without_static_refusals
from tests.support import FIXTURES, with_appended

MARKER = "7F3A9C21E5B0D4F6"  # the tail of carries_marker.py's marker (the scanner never holds it)


def _marked(course: Course, dest: Path) -> Path:
    folder = with_appended(course, "stability", FIXTURES / "hostile" / "carries_marker.py", dest)
    # a long source (a notebook export with its outputs pasted in): more than the later worker's
    # own allocations reuse, so whatever a shared process kept of it is still there to find
    with (folder / "stability.py").open("a") as f:
        f.writelines(f"# DLGRADE-MARK-{MARKER} pasted output line {i}\n" for i in range(3000))
    return folder


def _memory_hits(pid: int, text: bytes) -> int:
    """How often `text` occurs in the readable memory of process `pid` (read through /proc)."""
    hits = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            lo, hi = (int(a, 16) for a in span.split("-"))
            try:
                mem.seek(lo)
                hits += (mem.read(hi - lo) or b"").count(text)
            except (OSError, OverflowError, ValueError):
                continue  # a mapping the kernel will not let us read ([vvar], device memory)
    return hits


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="reads /proc/PID/mem")
def test_the_zygote_never_holds_a_submissions_source(course: Course, tmp_path: Path) -> None:
    """The zygote forks every worker of a batch: after it has forked one for a marked submission,
    its memory does not hold the marker (it did when it parsed the module before the fork)."""
    folder = _marked(course, tmp_path / "marked")
    box = Sandbox(course.all_rule_patterns())
    try:
        worker = box.spawn(WorkerSpec(str(folder), "stability", 2048))
        assert worker.hello(120)["kind"] == "ready"
        assert box._proc is not None
        assert _memory_hits(box.pid_of(worker), MARKER.encode()) > 0  # the worker holds it: the scan works
        assert _memory_hits(box._proc.pid, MARKER.encode()) == 0
    finally:
        box.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the scan reads Linux process memory")
def test_a_later_submission_finds_nothing_of_an_earlier_one(tmp_path: Path) -> None:
    (tmp_path / "course").mkdir()
    # the static rules refuse raw memory: off here, to test the zygote beneath them
    course = load_course(without_static_refusals(tmp_path / "course"))
    subs = tmp_path / "subs"
    _marked(course, subs / "1_marked")
    with_appended(course, "stability", FIXTURES / "hostile" / "scans_other_submissions.py", subs / "2_scans")
    assert MARKER in (subs / "1_marked" / "stability.py").read_text()
    assert MARKER not in (subs / "2_scans" / "stability.py").read_text()
    grade_cmd = str(Path(sys.executable).with_name("grade"))
    run = subprocess.run(
        [grade_cmd, "batch", str(subs), "stability", "--jobs", "1", "--csv", str(tmp_path / "g.csv")],
        cwd=course.root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    book = (tmp_path / "g.json").read_text()
    rows = {r["id"]: r for r in json.loads(book)["rows"]}
    scanned = {e["id"]: e for e in rows["2_scans"]["result"]["exercises"]}
    # passed: the scan found its own sentinel (it reads its memory) and no other submission's text
    assert scanned["logsumexp"]["status"] == "passed", scanned["logsumexp"]["message"]
    assert rows["1_marked"]["result"]["score"] == rows["1_marked"]["result"]["max_score"]
    assert MARKER not in book + run.stdout + run.stderr
