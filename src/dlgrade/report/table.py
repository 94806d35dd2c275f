"""The terminal report: one line per exercise, one per failed public check, a summary.

Lines never wrap on purpose (soft wrap), so each failure stays one line in CI logs.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from dlgrade.core.printable import printable
from dlgrade.core.result import (
    ExerciseResult,
    GradeResult,
    deferred_points,
    points_sum,
    points_text,
    score_text,
)
from dlgrade.report.hidden_note import hidden_note

STATUS_STYLE = {
    "passed": ("✓ passed", "green"),
    "partial": ("◐ partial", "yellow"),
    "failed": ("✗ failed", "red"),
    "not_started": ("· not started", "dim"),
    "error": ("! error", "bold red"),
}
_STATUS_WIDTH = max(len(label) for label, _ in STATUS_STYLE.values())


def _points(score: float, max_score: float) -> str:
    return score_text(score, max_score)


def table_lines(result: GradeResult) -> list[Text]:
    width = max([len(e.id) for e in result.exercises] + [8])
    lines = [Text.assemble((result.course or "dlgrade", "bold"), f" — {result.submission}")]
    lines.append(Text(f"{'exercise':<{width}}  {'status':<{_STATUS_WIDTH}}  points", style="bold"))
    topic = None
    for e in result.exercises:
        if e.topic != topic:
            topic = e.topic
            lines.append(Text(f"[{topic}]", style="bold cyan"))
        lines.extend(exercise_lines(e, width))
    lines.extend(_summary(result))
    return lines


def exercise_lines(e: ExerciseResult, width: int = 8) -> list[Text]:
    """The exercise's row and, under it, one line per failed check (notebooks print these too)."""
    label, style = STATUS_STYLE[e.status]
    row = Text.assemble(
        f"{e.id:<{width}}  ", (f"{label:<{_STATUS_WIDTH}}", style), f"  {_points(e.score, e.max_score)}"
    )
    return [row, *_details(e)]


def _details(e: ExerciseResult) -> list[Text]:
    out = []
    if e.status in ("not_started", "error") and e.message:
        out.append(Text.assemble("    ", (e.message, "red" if e.status == "error" else "dim")))
    for c in e.checks:
        if c.passed or c.outcome in ("not_started", "not_run", "deferred"):
            continue
        if e.status in ("not_started", "error") and c.outcome != "failed":
            continue  # the exercise line above already says what went wrong
        if c.visibility == "hidden":
            out.append(Text.assemble("    ✗ ", ("hidden check ", "magenta"), f"“{c.name}”: {c.message}"))
        else:
            hint = f" Hint: {c.hint}" if c.hint else ""
            out.append(Text.assemble("    ✗ ", (c.name, "bold"), f": {c.message}.", (hint, "cyan")))
    if e.mistake and e.status != "passed":  # a known mistake its failing outputs match
        out.append(Text.assemble("    ", ("→ ", "yellow"), e.mistake_text()))
    if e.hint and e.status not in ("passed", "not_started"):
        out.append(Text.assemble("    ", ("hint: ", "cyan"), hint_pointer(e)))
    deferred = [c for c in e.checks if c.outcome == "deferred"]
    if deferred:
        out.append(Text(f"    · {deferred_note(e)}", style="magenta"))
    return out


def hint_pointer(e: ExerciseResult) -> str:
    """The one short line under a failing exercise: where its hints are (`grade hint` gives
    them a tier at a time), never the hint itself."""
    tiers = f" ({e.hint_tiers} tier{'s' if e.hint_tiers != 1 else ''})" if e.hint_tiers else ""
    return f"`grade hint {e.id}`{tiers}"


def deferred_note(e: ExerciseResult) -> str:
    """How every channel states deferred hidden checks: the public part, then what is left."""
    deferred = [c for c in e.checks if c.outcome == "deferred"]
    points = deferred_points(e.checks)
    names = ", ".join(f"“{c.name}” ({points_text(c.max_score)} pts)" for c in deferred)
    public = _points(e.score, points_sum((e.max_score, -points)))
    return f"{public} public, {points_text(points)} {deferred[0].message}: hidden {names}"


def _summary(result: GradeResult) -> list[Text]:
    counts = {k: v for k, v in result.counts().items() if v}
    parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
    lines = [
        Text.assemble(
            ("Total ", "bold"),
            (_points(result.score, result.max_score), "bold"),
            f" ({result.percent:.0f}%) · {parts}",
        )
    ]
    hidden = result.hidden_summary()
    deferred = result.deferred_summary()
    if deferred["count"]:
        lines.append(
            Text(
                f"Public checks {_points(result.score, result.public_max_score)}; "
                f"{deferred['count']:g} hidden checks ({points_text(deferred['points'])} points) "
                "run at grading time, "
                f"not here: the total above counts them as 0 of {points_text(result.max_score)}.",
                style="magenta",
            )
        )
    elif hidden["count"]:
        lines.append(Text(hidden_note(result), style="magenta"))
    if result.internal_errors:
        lines.append(Text(f"{len(result.internal_errors)} grader error(s); see stderr", style="bold red"))
    return lines


def render_table(result: GradeResult, color: bool = False) -> str:
    return render_lines(table_lines(result), color)


def render_lines(lines: list[Text], color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        force_jupyter=False,  # text into `buf` even inside a notebook kernel
        no_color=not color,
        soft_wrap=True,
        highlight=False,
        width=200,
    )
    for line in lines:
        console.print(shown(line))
    return buf.getvalue()


def shown(line: Text) -> Text:
    """The line with every control or invisible character visible (core.printable): one for
    one, so its styles stay in place. Ids, paths and messages in it may be a student's."""
    if line.plain.isprintable():
        return line
    out = line.copy()
    out.plain = printable(line.plain)
    return out
