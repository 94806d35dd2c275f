"""`grade watch`: regrade on every save of an exercise module and redraw one screen.

One process keeps the sandbox's zygote and the graders (torch, pytest) warm, so a regrade
of one topic costs the checks alone (docs/performance.md has the figure). Files are watched
with watchfiles; keys are read from the terminal in cbreak mode. A module that does not parse
mid-edit grades as an import error with its line number, like `grade` does; it never stops
the loop.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.loop.screen import Screen, screen_lines, unsolved_after
from dlgrade.report.table import shown
from dlgrade.sandbox.pool import Sandbox

DEBOUNCE_MS = 20  # editors write a file in bursts; watchfiles waits this long for quiet
Event = tuple[str, object]  # ("files", {module, ...}) or ("key", "n")


def watch(course: Course, names: Sequence[str] = (), *, device: str = "cpu") -> None:
    """Watch the course's exercises/ until `q` (or Ctrl-C)."""
    from dlgrade.loop import state

    watched = course.select(list(names))
    box = course_sandbox(course)
    screen = Screen(course=course, watched=watched, results=state.last_results(course))
    console = Console(highlight=False, soft_wrap=True)
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=_watch_files, args=(course, events, stop), daemon=True).start()
    try:
        with _keys(events):
            _redraw(console, screen, _regrade(screen, box, {e.module for e in watched}, device))
            _loop(console, screen, box, events, device)
    except KeyboardInterrupt:  # Ctrl-C: as `q`
        pass
    finally:
        stop.set()


def _loop(console: Console, screen: Screen, box: Sandbox, events: queue.Queue[Event], device: str) -> None:
    """Handle saves and keys until `q`."""
    while True:
        try:
            kind, value = events.get(timeout=0.5)
        except queue.Empty:
            continue
        if kind == "key" and value == "q":
            return
        if kind == "key":
            _key(screen, str(value))
            _redraw(console, screen, None)
        else:
            assert isinstance(value, set)
            _redraw(console, screen, _regrade(screen, box, value | _drain(events), device))


def _watch_files(course: Course, events: queue.Queue[Event], stop: threading.Event) -> None:
    from watchfiles import watch as watch_paths

    modules = set(course.modules)
    folder = course.exercises_dir()
    for changes in watch_paths(folder, debounce=DEBOUNCE_MS, step=10, stop_event=stop, recursive=False):
        changed = {Path(p).stem for _, p in changes if Path(p).suffix == ".py" and Path(p).stem in modules}
        if changed:
            events.put(("files", changed))


def _drain(events: queue.Queue[Event]) -> set[str]:
    """Modules saved again while the last regrade ran: one more regrade covers them all."""
    more: set[str] = set()
    while True:
        try:
            kind, value = events.get_nowait()
        except queue.Empty:
            return more
        if kind == "files" and isinstance(value, set):
            more |= value
        else:
            events.put((kind, value))  # a key: handled after this regrade
            return more


def _regrade(screen: Screen, box: Sandbox, modules: set[str], device: str) -> GradeResult | None:
    """Grade the watched exercises of the saved modules; the screen shows the outcome."""
    from dlgrade.engine.runner import EngineError, grade

    ids = [e.id for e in screen.watched if e.module in modules]
    if not ids:
        return None
    started = time.perf_counter()
    try:
        folder = screen.course.exercises_dir()
        result = grade(screen.course, folder, ids, label="exercises/", sandbox=box, device=device)
    except EngineError as exc:
        screen.note = f"the graders failed: {exc}"
        return None
    screen.results.update({e.id: e for e in result.exercises})
    screen.run += 1
    took = time.perf_counter() - started
    screen.note = f"graded {', '.join(sorted(modules))}.py in {took:.2f} s at {time.strftime('%H:%M:%S')}"
    current = screen.results.get(screen.focus)
    if not screen.focus or (current is not None and current.status == "passed"):
        nxt = unsolved_after(screen, screen.focus)
        _set_focus(screen, nxt.id if nxt is not None else "")
    return result


def _redraw(console: Console, screen: Screen, result: GradeResult | None) -> None:
    """Draw first, then save the result for `grade list`: the student waits for the screen only."""
    from dlgrade.loop.grading import remember

    _draw(console, screen)
    if result is not None:
        remember(screen.course, result)


def _set_focus(screen: Screen, exercise: str) -> None:
    from dlgrade.loop.state import hints_opened

    screen.focus = exercise
    if exercise:
        opened = hints_opened(screen.course).get(exercise, 0)
        screen.hints = screen.course.exercise(exercise).hints[:opened]
    else:
        screen.hints = ()


def _key(screen: Screen, key: str) -> None:
    from dlgrade.loop.state import open_hint

    if key == "l":
        screen.listing = not screen.listing
    elif key == "n":
        screen.listing = False
        nxt = unsolved_after(screen, screen.focus)
        _set_focus(screen, nxt.id if nxt is not None else "")
    elif key == "h" and screen.focus:
        screen.listing = False
        open_hint(screen.course, screen.course.exercise(screen.focus))
        _set_focus(screen, screen.focus)


def _draw(console: Console, screen: Screen) -> None:
    with console:  # one write: the terminal never shows a half-drawn screen
        console.clear()
        for line in screen_lines(screen):
            console.print(shown(line))


@contextlib.contextmanager
def _keys(events: queue.Queue[Event]) -> Iterator[None]:
    """Single keys from the terminal (cbreak mode, restored on the way out); none without one."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read() -> None:
        while True:
            key = os.read(fd, 1)
            if not key:
                return
            events.put(("key", key.decode("utf-8", "replace").lower()))

    threading.Thread(target=read, daemon=True).start()
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
