"""A Markdown summary for CI pages ($GITHUB_STEP_SUMMARY), ending in a `Points X/Y` line."""

from __future__ import annotations

import re

from dlgrade.core.printable import printable
from dlgrade.core.result import ExerciseResult, GradeResult, score_text
from dlgrade.report.hidden_note import hidden_note

STATUS_LABEL = {
    "passed": "✅ passed",
    "partial": "🟡 partial",
    "failed": "❌ failed",
    "not_started": "⚪ not started",
    "error": "❗ error",
}
# Markdown and HTML metacharacters; student-controlled text (exception messages) may hold any.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def escape(text: str) -> str:
    """Plain text as Markdown that renders as itself on one line."""
    text = printable(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def _points(score: float, max_score: float) -> str:
    return score_text(score, max_score)


def _problems(e: ExerciseResult) -> list[str]:
    out = []
    if e.status in ("error", "not_started") and e.message:
        out.append(f"- **{escape(e.id)}**: {escape(e.message)}")
    for c in e.checks:
        if c.passed or c.outcome in ("not_started", "not_run", "deferred"):
            continue
        if e.status in ("not_started", "error") and c.outcome != "failed":
            continue  # the exercise line already says what went wrong
        if c.visibility == "hidden":
            out.append(f"- **{escape(e.id)}** · hidden check “{escape(c.name)}”: {escape(c.message)}")
        else:
            hint = f" *Hint:* {escape(c.hint)}" if c.hint else ""
            out.append(f"- **{escape(e.id)}** · {escape(c.name)}: {escape(c.message)}.{hint}")
    if e.mistake and e.status != "passed":
        out.append(f"- **{escape(e.id)}** {escape(e.mistake_text())}")
    return out


def render_markdown(result: GradeResult) -> str:
    lines = [
        f"## {escape(result.course or 'dlgrade')}: {_points(result.score, result.max_score)} points "
        f"({result.percent:.0f}%)",
        "",
        "| exercise | topic | status | points |",
        "|---|---|---|---:|",
    ]
    for e in result.exercises:
        status, points = STATUS_LABEL[e.status], _points(e.score, e.max_score)
        lines.append(f"| {escape(e.id)} | {escape(e.topic)} | {status} | {points} |")
    problems = [line for e in result.exercises for line in _problems(e)]
    if problems:
        lines += ["", "### What to fix", "", *problems]
    if note := hidden_note(result):
        lines += ["", note]
    if result.internal_errors:
        lines += ["", f"**{len(result.internal_errors)} grader error(s)**: this grade is incomplete."]
    lines += ["", f"Points {_points(result.score, result.max_score)}"]
    return "\n".join(lines) + "\n"
