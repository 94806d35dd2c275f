"""`grade list`: every exercise in learning order with its last status, topic totals, what next."""

from __future__ import annotations

from rich.text import Text

from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.result import ExerciseResult, points_sum, points_text, score_text
from dlgrade.report.table import STATUS_STYLE


def next_exercise(course: Course, last: dict[str, ExerciseResult]) -> Exercise | None:
    """The first exercise in learning order that is not passed yet (None when all are)."""
    return next((e for e in course.exercises if _status(last.get(e.id)) != "passed"), None)


def _status(r: ExerciseResult | None) -> str:
    return r.status if r is not None else "not_started"


def list_lines(course: Course, last: dict[str, ExerciseResult]) -> list[Text]:
    width = max(len(e.id) for e in course.exercises)
    status_width = max(len(label) for label, _ in STATUS_STYLE.values())
    lines = []
    for topic in course.topics:
        earned = sum(last[e.id].score for e in topic.exercises if e.id in last)
        lines.append(
            Text.assemble(
                (f"{topic.id}", "bold cyan"), f" — {topic.title} ", (score_text(earned, topic.points), "bold")
            )
        )
        for e in topic.exercises:
            r = last.get(e.id)
            label, style = STATUS_STYLE[_status(r)]
            points = score_text(r.score, e.points) if r is not None else f"-/{points_text(e.points)}"
            lines.append(
                Text.assemble(
                    f"  {e.id:<{width}}  ",
                    (f"{label:<{status_width}}", style),
                    f"  {points:>9}  {e.time_limit:g} s  {e.summary}",
                )
            )
    total = points_sum(r.score for r in last.values())
    lines.append(
        Text.assemble(
            ("Total ", "bold"), (score_text(total, points_sum(t.points for t in course.topics)), "bold")
        )
    )
    nxt = next_exercise(course, last)
    if nxt is None:
        lines.append(Text("Every exercise passed.", style="green"))
    else:
        lines.append(Text(f"Next: {nxt.id} in exercises/{nxt.module}.py (`grade {nxt.id}`)", style="cyan"))
    return lines
