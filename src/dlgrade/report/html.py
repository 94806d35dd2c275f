"""A self-contained HTML page of one result: for feedback files a student opens in a browser."""

from __future__ import annotations

from html import escape as _escape

from dlgrade.core.printable import lines
from dlgrade.core.result import ExerciseResult, GradeResult
from dlgrade.report.hidden_note import hidden_note
from dlgrade.report.markdown import STATUS_LABEL

_STYLE = (
    "body{font-family:sans-serif;max-width:52em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
    "td.n{text-align:right}li{margin:.3em 0}"
)


def escape(text: str) -> str:
    """Text as HTML that shows as itself, control and invisible characters made visible."""
    return _escape(lines(text))


def _problems(e: ExerciseResult) -> list[str]:
    """The same lines as the Markdown report's "What to fix", as list items."""
    out = []
    if e.status in ("error", "not_started") and e.message:
        out.append(f"<li><b>{escape(e.id)}</b>: {escape(e.message)}</li>")
    for c in e.checks:
        if c.passed or c.outcome in ("not_started", "not_run", "deferred"):
            continue
        if e.status in ("not_started", "error") and c.outcome != "failed":
            continue
        if c.visibility == "hidden":
            out.append(
                f"<li><b>{escape(e.id)}</b> · hidden check “{escape(c.name)}”: {escape(c.message)}</li>"
            )
        else:
            hint = f" <i>Hint:</i> {escape(c.hint)}" if c.hint else ""
            out.append(f"<li><b>{escape(e.id)}</b> · {escape(c.name)}: {escape(c.message)}.{hint}</li>")
    return out


def render_html(result: GradeResult) -> str:
    title = f"{result.course or 'dlgrade'}: {result.score:g}/{result.max_score:g} points"
    rows = [
        f"<tr><td>{escape(e.id)}</td><td>{escape(e.topic)}</td><td>{escape(STATUS_LABEL[e.status])}</td>"
        f'<td class="n">{e.score:g}/{e.max_score:g}</td></tr>'
        for e in result.exercises
    ]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)} ({result.percent:.0f}%)</h1>",
        "<table><tr><th>exercise</th><th>topic</th><th>status</th><th>points</th></tr>",
        *rows,
        "</table>",
    ]
    problems = [line for e in result.exercises for line in _problems(e)]
    if problems:
        parts += ["<h2>What to fix</h2><ul>", *problems, "</ul>"]
    if note := hidden_note(result):
        parts.append(f"<p>{escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
