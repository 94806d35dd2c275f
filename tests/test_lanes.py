"""`grade --lanes N`: exercises graded in parallel lanes give the serial result, byte for byte.

Real `grade` processes on a mixed submission (passing, wrong, untouched and crashing
exercises); the JSON documents are compared whole, less the run's duration.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.engine.claims import Claims
from tests.support import ROOT, append, reference_copy, variant

GRADE = Path(sys.executable).with_name("grade")
TOPICS = ("stability", "tensors", "xor", "activations")
# A driver that grades like `grade`, with the exercises claimed in turn by lane 0 and lane 1
# before the lanes start: each lane grades every other exercise, whatever the timing.
ALTERNATE = """
import sys
from dlgrade.cli.main import entry
from dlgrade.engine import claims
plain = claims.Claims.__init__
def alternate(self, exercises):
    plain(self, exercises)
    for i in range(len(exercises)):
        self._owners[i] = 1 + i % 2
claims.Claims.__init__ = alternate
sys.argv = ["grade", *sys.argv[1:]]
entry()
"""
PPID = """
import os

def nchw_to_nhwc(x):
    print("parent", os.getppid())
    raise ValueError("not yet")

def spatial_mean(x):
    print("parent", os.getppid())
    raise ValueError("not yet")
"""


def mixed(course: Course, dest: Path) -> Path:
    """Model solutions, two named known mistakes in stability, xor's stubs, a crashing tensors."""
    folder = reference_copy(course, dest)
    append(course, folder / "stability.py", variant("stability", "keepdim_ignored").path)
    append(course, folder / "stability.py", variant("stability", "max_wrong_dim").path)
    shutil.copy(course.root / "exercises" / "xor.py", folder / "xor.py")
    (folder / "tensors.py").write_text("import torch\n\ndef nchw_to_nhwc(x):\n    return 1 / 0\n")
    return folder


def graded(folder: Path, lanes: int, *names: str, driver: str | None = None) -> str:
    cmd = [str(GRADE)] if driver is None else [sys.executable, "-c", driver]
    proc = subprocess.run(
        [*cmd, "--submission", str(folder), "--format", "json", "--lanes", str(lanes), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DLGRADE_LANES": "7"},  # --lanes wins
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def without_duration(text: str) -> str:
    doc = json.loads(text)
    assert isinstance(doc.pop("duration_s", 0.0), float)
    return json.dumps(doc, indent=1)


@pytest.fixture(scope="module")
def serial(course: Course, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The mixed submission and its serial grading (one lane), shared by the tests below."""
    folder = mixed(course, tmp_path_factory.mktemp("lanes") / "mixed")
    text = without_duration(graded(folder, 1, *TOPICS))
    statuses = {e["status"] for e in json.loads(text)["exercises"]}
    assert {"passed", "partial", "not_started", "error"} <= statuses, statuses
    named = {e["id"]: e.get("mistake", {}).get("name") for e in json.loads(text)["exercises"]}
    assert named["logsumexp"] and named["stable_softmax"], named  # one per lane when alternated
    return folder, text


def test_two_alternated_lanes_give_the_serial_result_byte_for_byte(serial: tuple[Path, str]) -> None:
    folder, text = serial
    # every other exercise certainly graded in the second lane, by its own zygote's workers
    assert without_duration(graded(folder, 2, *TOPICS, driver=ALTERNATE)) == text


@pytest.mark.slow  # the same proof as the alternated one above, with claims as they come
def test_two_lanes_give_the_serial_result_byte_for_byte(serial: tuple[Path, str]) -> None:
    folder, text = serial
    assert without_duration(graded(folder, 2, *TOPICS)) == text


def test_the_second_lane_grades_in_workers_of_its_own_zygote(course: Course, tmp_path: Path) -> None:
    folder = reference_copy(course, tmp_path / "ppid")
    (folder / "tensors.py").write_text(PPID)
    names = ("nchw_to_nhwc", "spatial_mean")

    def parents(lanes: int) -> set[str]:
        doc = json.loads(graded(folder, lanes, *names, driver=ALTERNATE))
        found = {
            m
            for e in doc["exercises"]
            for c in e["checks"]
            for m in re.findall(r"parent (\d+)", c["message"])
        }
        assert len(found) >= 1, doc
        return found

    assert len(parents(1)) == 1
    assert len(parents(2)) == 2


def test_claims_are_first_come_and_shared_with_a_fork() -> None:
    claims = Claims(["a", "b", "c"])
    pid = os.fork()
    if pid == 0:  # the second lane
        claims.lane = 1
        os._exit(0 if claims.take("b") else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert claims.take("a") and claims.mine("a")
    assert not claims.take("b") and claims.owner("b") == 1
    assert claims.take("c") and claims.owner("c") == 0
    assert claims.take("not graded here")  # an exercise the claims do not know is anyone's


@pytest.mark.parametrize("value", ["0", "two"])
def test_a_bad_lanes_value_is_one_line(value: str) -> None:
    proc = subprocess.run(
        [str(GRADE), "--submission", "reference", "--lanes", value, "logsumexp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--lanes" in proc.stderr
