"""A print flood through the real `grade`: prints are counted right (every newline the worker was
given, not the lines of the text kept for the message), and a call that runs out of time while
printing a lot is told so, not told of "a loop that never ends"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from tests.support import reference_copy

GRADE = str(Path(sys.executable).with_name("grade"))
LINES = 30_000  # printed by each call of the wrong logsumexp


def _grade(folder: Path, *names: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [GRADE, "--submission", str(folder), *names, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    doc = json.loads(done.stdout)
    return {e["id"]: [c["message"] for c in e["checks"] if not c["passed"]] for e in doc["exercises"]}


@pytest.mark.slow  # two calls run out of time
def test_a_flood_is_counted_and_a_timeout_while_printing_says_so(course: Course, tmp_path: Path) -> None:
    folder = reference_copy(course, tmp_path / "sub")
    with (folder / "stability.py").open("a") as f:
        f.write(
            "\n\ndef logsumexp(x, dim=-1, keepdim=False):\n"
            f"    for i in range({LINES}):\n"
            "        print('line', i)\n"
            "    return x.sum()\n"
            "\n\ndef stable_softmax(x, dim=-1):\n"
            "    while True:\n"
            "        print('still here')\n"
            "\n\ndef log_softmax(x, dim=-1):\n"
            "    while True:\n"
            "        pass\n"
        )
    failed = _grade(folder, "logsumexp", "stable_softmax", "log_softmax")
    counted = [m for m in failed["logsumexp"] if "your code printed" in m]
    assert counted, failed["logsumexp"]
    for message in counted:
        found = re.search(r"your code printed: line 0 \| line 1 \| line 2 \(\+([\d,]+) more lines\)", message)
        assert found, message
        total = int(found.group(1).replace(",", "")) + 3  # every line the check's calls printed
        assert total >= LINES and total % LINES == 0, message
    flood = [m for m in failed["stable_softmax"] if "time ran out" in m]
    assert flood, failed["stable_softmax"]
    found = re.search(
        r"printed at least ([\d,]+) lines before its time ran out .*: printing that much is slow; print less",
        flood[0],
    )
    assert found and int(found.group(1).replace(",", "")) >= 10_000, flood[0]
    assert not any("never ends" in m for m in failed["stable_softmax"])
    assert any("never ends" in m for m in failed["log_softmax"]), failed["log_softmax"]


def test_a_workers_count_of_lines_is_hostile_input() -> None:
    from dlgrade.sandbox.handle import MAX_LINES, printed_lines

    assert printed_lines(12_345) == 12_345
    assert printed_lines(10**40) == MAX_LINES
    for forged in (-1, True, "500", 1.5e9, None, [3]):
        assert printed_lines(forged) == 0, forged
