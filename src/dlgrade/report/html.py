"""A self-contained HTML page of one result: for feedback files a student opens in a browser.

The page names the course, the submission and when it was written; statuses are text badges
coloured by CSS (no emoji: they show as empty boxes where no emoji font is installed); points
have at most two decimals (core.result.points_text); a hidden check shows its name only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape as _escape

from dlgrade.core.printable import lines
from dlgrade.core.result import ExerciseResult, GradeResult, score_text
from dlgrade.report.hidden_note import hidden_note

BADGE = {
    "passed": "passed",
    "partial": "partial",
    "failed": "failed",
    "not_started": "not started",
    "error": "error",
}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;
 max-width:56em;margin:2em auto;padding:0 1em;line-height:1.45}
header{border-bottom:2px solid #d0d7de;padding-bottom:.6em;margin-bottom:1.2em}
h1{margin:0 0 .2em;font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}
.meta{color:#57606a;margin:0}.meta b{color:#1f2328}
.score{font-size:1.3em;margin:.8em 0 .3em}.score b{font-size:1.4em}
.bar{height:.7em;background:#eaeef2;border-radius:.35em;overflow:hidden;max-width:30em}
.bar span{display:block;height:100%;background:#2da44e}
table{border-collapse:collapse;width:100%;margin-top:1em}
td,th{border-bottom:1px solid #d0d7de;padding:.35em .6em;text-align:left}
th{background:#f6f8fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.topic td{background:#f6f8fa;font-weight:600;color:#0969da}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;font-size:.85em;font-weight:600;
 border:1px solid transparent;white-space:nowrap}
.badge.passed{background:#dafbe1;color:#116329;border-color:#4ac26b}
.badge.partial{background:#fff8c5;color:#7d4e00;border-color:#d4a72c}
.badge.failed{background:#ffebe9;color:#a40e26;border-color:#ff8182}
.badge.not_started{background:#f6f8fa;color:#57606a;border-color:#d0d7de}
.badge.error{background:#a40e26;color:#fff}
section.fix{border-left:4px solid #d0d7de;padding:.1em 1em;margin:1em 0}
section.fix.failed,section.fix.error{border-color:#ff8182}section.fix.partial{border-color:#d4a72c}
section.fix h3{margin:.4em 0;font-size:1.05em}
code{background:#f6f8fa;padding:.1em .3em;border-radius:.3em}
.hint{background:#ddf4ff;border-radius:.4em;padding:.4em .7em;margin:.5em 0}
.hidden{color:#8250df}.note{color:#57606a}
"""


def escape(text: str) -> str:
    """Text as HTML that shows as itself, control and invisible characters made visible."""
    return _escape(lines(text))


def badge(status: str) -> str:
    return f'<span class="badge {status}">{BADGE[status]}</span>'


def _problems(e: ExerciseResult) -> list[str]:
    """What went wrong in `e`, one list item per failed check (a hidden one by name only)."""
    out = []
    if e.status in ("error", "not_started") and e.message:
        out.append(f"<li>{escape(e.message)}</li>")
    for c in e.checks:
        if c.passed or c.outcome in ("not_started", "not_run", "deferred"):
            continue
        if e.status in ("not_started", "error") and c.outcome != "failed":
            continue
        if c.visibility == "hidden":
            out.append(f'<li class="hidden">hidden check “{escape(c.name)}” failed</li>')
        else:
            hint = f'<div class="hint"><b>Hint:</b> {escape(c.hint)}</div>' if c.hint else ""
            out.append(f"<li><b>{escape(c.name)}</b>: {escape(c.message)}.{hint}</li>")
    if e.mistake and e.status != "passed":
        out.append(f'<li class="mistake">{escape(e.mistake_text())}</li>')
    return out


def _fix_section(e: ExerciseResult) -> str:
    items = _problems(e)
    if not items and e.status == "passed":
        return ""
    hint = ""
    if e.hint and e.status not in ("passed", "not_started"):
        hint = f'<div class="hint"><b>Where to start:</b> {escape(e.hint)}</div>'
    head = f"<h3><code>{escape(e.id)}</code> {badge(e.status)} {score_text(e.score, e.max_score)}</h3>"
    body = f"<ul>{''.join(items)}</ul>" if items else ""
    return f'<section class="fix {e.status}">{head}{body}{hint}</section>'


def _rows(result: GradeResult) -> list[str]:
    rows, topic = [], None
    for e in result.exercises:
        if e.topic != topic:
            topic = e.topic
            rows.append(f'<tr class="topic"><td colspan="3">{escape(topic)}</td></tr>')
        rows.append(
            f"<tr><td><code>{escape(e.id)}</code></td><td>{badge(e.status)}</td>"
            f'<td class="n">{score_text(e.score, e.max_score)}</td></tr>'
        )
    return rows


def render_html(result: GradeResult, submission: str = "", when: datetime | None = None) -> str:
    """The page for `result`; `submission` names it (default: the result's own label), `when`
    dates it (default: now, in UTC)."""
    course = result.course or "dlgrade"
    who = submission or result.submission or "submission"
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total = score_text(result.score, result.max_score)
    counts = " ".join(f"{badge(s)} {n}" for s, n in result.counts().items() if n)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(course)}: {escape(who)}, {total} points</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{escape(course)}</h1>",
        f'<p class="meta">Submission <b>{escape(who)}</b> · feedback of {stamp}'
        f"{' · dlgrade ' + escape(result.version) if result.version else ''}</p></header>",
        f'<p class="score">Points <b>{total}</b> ({result.percent:.0f}%)</p>',
        f'<div class="bar"><span style="width:{min(100.0, max(0.0, result.percent)):.1f}%"></span></div>',
        f"<p>{counts}</p>",
    ]
    fixes = [s for e in result.exercises if (s := _fix_section(e))]
    if fixes:
        parts += ["<h2>What to fix</h2>", *fixes]
    parts += [
        "<h2>Every exercise</h2>",
        '<table><tr><th>exercise</th><th>status</th><th class="n">points</th></tr>',
        *_rows(result),
        "</table>",
    ]
    if note := hidden_note(result):
        parts.append(f'<p class="note">{escape(note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
