"""The HTML page of `grade similarity`: the ranked pairs, then each pair's two pieces of code side
by side with what they share marked. Everything from a submission is escaped."""

from __future__ import annotations

import datetime
from html import escape as _escape

from dlgrade.batch.similarity import Match, Similarity
from dlgrade.core.printable import lines


def escape(text: str) -> str:
    return _escape(lines(text))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.75em; border-bottom: 1px solid #ddd; }
th { text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; margin-bottom: 2em; }
pre { background: #f6f6f6; padding: 0.75em; overflow-x: auto; font-size: 0.85em; }
mark { background: #ffd27a; }
.note { background: #eef4ff; padding: 0.75em; border-left: 4px solid #4a78c2; }
"""


def render(sim: Similarity, course_title: str, *, top: int = 50) -> str:
    shown = sim.matches[:top]
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Similarity — {escape(course_title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Similarity — {escape(course_title)}</h1>",
        f"<p>{len(sim.submissions)} submissions compared on {when}; {len(sim.matches)} pairs of "
        f"exercises or modules share at least the threshold (the {len(shown)} highest below).</p>",
        "<p class='note'>A high score means two pieces of code share long runs of the same tokens "
        "(names and spacing aside), after the code every student was given is left out. It is a "
        "reason to look at both side by side, not evidence of copying: short exercises have few "
        "ways to be written.</p>",
        "<table><tr><th>score</th><th>submissions</th><th>what</th><th>tokens in common</th></tr>",
        *(_row(i, m) for i, m in enumerate(shown)),
        "</table>",
        *(_pair(i, m) for i, m in enumerate(shown)),
    ]
    if sim.skipped:
        parts.append("<h2>Not compared</h2><ul>")
        parts += [f"<li>{escape(r)}</li>" for r in sim.reasons]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _row(i: int, m: Match) -> str:
    return (
        f"<tr><td class='n'><a href='#p{i}'>{m.score:.0%}</a></td>"
        f"<td>{escape(m.a)} · {escape(m.b)}</td><td><code>{escape(m.unit)}</code></td>"
        f"<td class='n'>{m.tokens}</td></tr>"
    )


def _pair(i: int, m: Match) -> str:
    return (
        f"<h3 id='p{i}'>{escape(m.unit)}: {escape(m.a)} ({m.share_a:.0%} shared) · "
        f"{escape(m.b)} ({m.share_b:.0%} shared)</h3><div class='pair'>"
        f"<pre>{_marked(m.code_a, m.slices_a)}</pre><pre>{_marked(m.code_b, m.slices_b)}</pre></div>"
    )


def _marked(code: str, slices: tuple[tuple[int, int], ...]) -> str:
    out, at = [], 0
    for start, end in sorted(slices):
        start, end = max(start, at), max(end, at)
        out += [escape(code[at:start]), "<mark>", escape(code[start:end]), "</mark>"]
        at = end
    out.append(escape(code[at:]))
    return "".join(out)
