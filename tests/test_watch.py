"""`grade watch` in a real terminal (tmux): a save redraws the screen, keys work, `q` quits."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dlgrade.core.manifest import load_course
from dlgrade.loop.screen import KEYS
from tests.courses import course_copy

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
SOCKET = f"dlgrade-test-{Path(sys.executable).parent.parent.name}"
# How long a screen may take to get there: only a failure waits this long (a loaded machine
# can take a minute to import torch and grade a topic).
WAIT_S = 600.0


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait(self, ready: Callable[[str], bool], timeout: float = WAIT_S) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if ready(text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"the screen never got there:\n{self.screen()}")

    def drawn(self, ready: Callable[[str], bool]) -> str:
        """A whole watch screen that `ready` accepts: the keys line is drawn last, so a capture
        taken halfway through a redraw (cleared, some rows written) is never judged."""
        return self.wait(lambda s: KEYS in s and ready(s))

    def key(self, key: str) -> None:
        self.tmux("send-keys", "-t", self.name, key)


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    root = course_copy(tmp_path)
    grade = Path(sys.executable).with_name("grade")
    term = Terminal(f"watch-{tmp_path.name}")
    command = f"{grade} watch stability; echo WATCH-EXITED $?; sleep 600"
    term.tmux("new-session", "-d", "-s", term.name, "-x", "200", "-y", "50", "-c", str(root), command)
    try:
        yield term, root
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", term.name], capture_output=True)


def run_number(text: str) -> int:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return int(first.split("run #")[1].split()[0]) if "run #" in first else 0


def test_a_save_regrades_and_redraws_keys_work_and_q_quits(watching: tuple[Terminal, Path]) -> None:
    term, root = watching
    course = load_course(root)
    total, count = f"{sum(e.points for e in course.exercises):g}", len(course.exercises)
    stability = course.topic("stability")
    first = term.drawn(lambda s: run_number(s) == 1)
    assert "logsumexp still raises NotImplementedError" in first
    assert f"0/{total} points" in first and "keys: n next unsolved" in first

    shutil.copy(root / "reference" / "stability.py", root / "exercises" / "stability.py")
    solved = term.drawn(lambda s: run_number(s) == 2)
    for name in ("logsumexp", "stable_softmax", "log_softmax"):
        assert any(name in line and "✓ passed" in line and "5/5" in line for line in solved.splitlines())
    n = len(stability.exercises)
    assert f"{stability.points:g}/{total} points · {n}/{count} exercises passed" in solved

    mine = root / "exercises" / "stability.py"
    mine.write_text(mine.read_text() + "\ndef log_softmax(x, dim=-1):\n    return x +\n")  # mid-edit
    broken = term.drawn(lambda s: run_number(s) == 3)
    assert "syntax error at line" in broken and "! error" in broken  # a message, and still running

    term.key("h")
    hinted = term.drawn(lambda s: "hint 1/3:" in s)
    assert "hint 2/3:" not in hinted
    term.key("h")
    term.drawn(lambda s: "hint 2/3:" in s)
    term.key("l")
    last = course.topics[-1]  # the list ends with the last topic (the start may scroll off)
    term.drawn(lambda s: "Next: logsumexp" in s and f"{last.id} — {last.title}" in s)
    term.key("q")
    term.wait(lambda s: "WATCH-EXITED 0" in s)
    assert (root / ".dlgrade" / "hints.json").is_file()
