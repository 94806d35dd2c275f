"""The one screen `grade watch` redraws: statuses, the first failing check, hints, course progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.result import ExerciseResult
from dlgrade.report.table import STATUS_STYLE

KEYS = "keys: n next unsolved · h next hint · l list · q quit"
BAR_WIDTH = 30


@dataclass
class Screen:
    """What the screen shows; the watch loop changes it, `screen_lines` draws it."""

    course: Course
    watched: tuple[Exercise, ...]
    results: dict[str, ExerciseResult] = field(default_factory=dict)
    focus: str = ""  # the exercise whose failure and hints are shown
    hints: tuple[str, ...] = ()  # the focus exercise's hint tiers opened so far
    run: int = 0  # how many times it has graded (the benchmark waits for this to change)
    note: str = ""  # what happened last: what was graded and how long it took, or a problem
    listing: bool = False  # `l`: the course list instead of the focus


def unsolved_after(screen: Screen, current: str) -> Exercise | None:
    """The next watched exercise after `current` (cycling) whose last result is not `passed`."""
    ids = [e.id for e in screen.watched]
    start = ids.index(current) + 1 if current in ids else 0
    for e in [*screen.watched[start:], *screen.watched[:start]]:
        r = screen.results.get(e.id)
        if r is None or r.status != "passed":
            return e
    return None


def screen_lines(screen: Screen) -> list[Text]:
    lines = [Text.assemble(("dlgrade watch", "bold"), f" — run #{screen.run} — {screen.note}"), Text("")]
    if screen.listing:
        from dlgrade.loop.course_list import list_lines

        lines.extend(list_lines(screen.course, screen.results))
    else:
        lines.extend(_statuses(screen))
        lines.append(Text(""))
        lines.extend(_focus(screen))
    lines.extend([Text(""), _progress(screen), Text(KEYS, style="dim")])
    return lines


def _statuses(screen: Screen) -> list[Text]:
    width = max(len(e.id) for e in screen.watched)
    out = []
    for e in screen.watched:
        r = screen.results.get(e.id)
        label, style = STATUS_STYLE[r.status if r is not None else "not_started"]
        points = f"{r.score:g}/{e.points:g}" if r is not None else f"-/{e.points:g}"
        mark = "›" if e.id == screen.focus else " "
        out.append(Text.assemble(f"{mark} {e.id:<{width}}  ", (f"{label:<11}", style), f"  {points}"))
    return out


def _focus(screen: Screen) -> list[Text]:
    r = screen.results.get(screen.focus)
    if not screen.focus:
        return [Text("Every watched exercise passed.", style="green")]
    e = screen.course.exercise(screen.focus)
    out = [Text.assemble(("Now: ", "bold"), f"{e.id} in exercises/{e.module}.py — {e.summary}")]
    failure = first_failure(r) if r is not None else ""
    if failure:
        out.append(Text.assemble("  ✗ ", failure))
    elif r is None:
        out.append(Text("  not graded yet: save the file", style="dim"))
    for n, hint in enumerate(screen.hints, start=1):
        out.append(Text.assemble("  ", (f"hint {n}/{len(e.hints)}: ", "cyan"), hint))
    return out


def first_failure(r: ExerciseResult) -> str:
    """The exercise's first problem in words: what stopped it, else its first failed check."""
    if r.status in ("not_started", "error") and r.message:
        return r.message
    for c in r.checks:
        if not c.passed and c.outcome not in ("not_run", "deferred", "not_started"):
            where = f"hidden check “{c.name}”" if c.visibility == "hidden" else c.name
            return f"{where}: {c.message}"
    return ""


def _progress(screen: Screen) -> Text:
    total = sum(t.points for t in screen.course.topics)
    earned = sum(r.score for r in screen.results.values())
    passed = sum(r.status == "passed" for r in screen.results.values())
    filled = round(BAR_WIDTH * earned / total) if total else BAR_WIDTH
    return Text.assemble(
        ("course ", "bold"),
        ("█" * filled, "green"),
        ("░" * (BAR_WIDTH - filled), "dim"),
        f" {earned:g}/{total:g} points · {passed}/{len(screen.course.exercises)} exercises passed",
    )
