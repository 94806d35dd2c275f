"""`grade insight`'s outputs: a terminal summary, a Markdown and an HTML page with a chart, and
JSON. Student ids appear only in the instructor's copy (`with_ids`); every text that came from a
submission is escaped."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from dlgrade.batch.insight import Insight
from dlgrade.core.atomic import write_atomic
from dlgrade.core.printable import printable

STATUS_COLOURS = (
    ("passed", "#3a9d5d"),
    ("partial", "#e0a526"),
    ("failed", "#c8453c"),
    ("not_started", "#b9b9b9"),
)


def summary(ins: Insight, *, top: int = 8) -> list[str]:
    lines = [f"{ins.course}: {ins.submissions} submissions graded ({ins.ungraded} could not be)"]
    if ins.reteach:
        lines.append("What to re-teach (points lost by those who tried):")
        for i, r in enumerate(ins.reteach[:top], 1):
            lines.append(
                f"  {i}. {r.exercise}: {r.lost_share:.0%} lost by {r.tried}; "
                f"most failed “{printable(r.worst_check)}” ({r.worst_share:.0%})"
            )
    unstarted = [e for e in ins.exercises if e.not_started]
    if unstarted:
        worst = sorted(unstarted, key=lambda e: -e.not_started)[:top]
        lines.append(
            "Not started: " + ", ".join(f"{e.exercise} {e.not_started}/{e.submissions}" for e in worst)
        )
    for m in ins.mistakes[:top]:
        n = len(m.students)
        lines.append(f"Common mistake, {n} student{'s' if n != 1 else ''}: {m.exercise}: {printable(m.name)}")
    for c in ins.clusters[:top]:
        lines.append(
            f"Shared failure, {len(c.students)} students: {c.exercise} fails "
            + "; ".join(f"“{printable(n)}”" for n in c.checks)
            + " with the same values (name it: docs/insight.md)"
        )
    return lines


def chart(ins: Insight, path: Path) -> Path:
    """Each exercise's students by status, as one horizontal stacked bar (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e.exercise for e in ins.exercises][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1.2))
    left = [0.0] * len(names)
    for status, colour in STATUS_COLOURS:
        values = [getattr(e, status) / max(e.submissions, 1) for e in ins.exercises][::-1]
        ax.barh(names, values, left=left, color=colour, label=status.replace("_", " "))
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the graded submissions")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


Table = tuple[str, list[str], list[list[str]]]  # title, header, rows (plain text)


def _tables(ins: Insight, *, with_ids: bool) -> list[Table]:
    tables: list[Table] = [
        (
            "What to re-teach",
            ["exercise", "points lost by those who tried", "tried", "check most failed", "failed it"],
            [
                [r.exercise, f"{r.lost_share:.0%}", str(r.tried), r.worst_check, f"{r.worst_share:.0%}"]
                for r in ins.reteach
            ],
        ),
        (
            "Exercises",
            ["exercise", "passed", "partial", "failed", "not started", "could not be graded"],
            [
                [
                    e.exercise,
                    *(str(getattr(e, s)) for s in ("passed", "partial", "failed", "not_started", "error")),
                ]
                for e in ins.exercises
            ],
        ),
        (
            "Checks failed",
            ["exercise", "check", "visibility", "failed", "of those who tried"],
            [
                [c.exercise, c.check, c.visibility, f"{c.share:.0%}", str(c.tried)]
                for c in sorted(ins.checks, key=lambda c: -c.share)
                if c.failed
            ],
        ),
    ]
    if ins.mistakes:
        tables.append(
            (
                "Known mistakes the feedback named",
                ["exercise", "mistake", "students", "what it teaches"],
                [
                    [
                        m.exercise,
                        m.name,
                        ", ".join(m.students) if with_ids else str(len(m.students)),
                        m.teaches,
                    ]
                    for m in ins.mistakes
                ],
            )
        )
    if ins.clusters:
        tables.append(
            (
                "Shared failures no known mistake names yet",
                ["exercise", "students", "what each failed check said"],
                [
                    [
                        c.exercise,
                        ", ".join(c.students) if with_ids else str(len(c.students)),
                        " · ".join(c.messages),
                    ]
                    for c in ins.clusters
                ],
            )
        )
    return tables


def markdown(ins: Insight, chart_name: str, *, with_ids: bool) -> str:
    out = [f"# What the class got wrong — {_md(ins.course)}", "", _md(summary(ins)[0]), ""]
    out += [f"![students by status, per exercise]({chart_name})"]
    for title, head, rows in _tables(ins, with_ids=with_ids):
        out += ["", f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return printable(text).replace("|", "\\|").replace("<", "&lt;")


def page(ins: Insight, png: bytes, *, with_ids: bool) -> str:
    e = html.escape
    image = base64.b64encode(png).decode()
    course = printable(ins.course)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Insight — {e(course)}</title><style>{STYLE}</style></head><body>",
        f"<h1>What the class got wrong — {e(course)}</h1><p>{e(printable(summary(ins)[0]))}</p>",
        f"<img alt='students by status, per exercise' src='data:image/png;base64,{image}'>",
    ]
    for title, head, rows in _tables(ins, with_ids=with_ids):
        parts.append(f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(printable(v))}</td>" for v in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
    "table{border-collapse:collapse;margin-bottom:1.5em}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:top}img{max-width:100%}"
)


def write_all(ins: Insight, folder: Path, *, with_ids: bool) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    png = chart(ins, folder / "insight.png")
    return [
        png,
        write_atomic(folder / "insight.md", markdown(ins, png.name, with_ids=with_ids)),
        write_atomic(folder / "insight.html", page(ins, png.read_bytes(), with_ids=with_ids)),
        write_atomic(folder / "insight.json", json.dumps(ins.to_dict(with_ids=with_ids), indent=1) + "\n"),
    ]
