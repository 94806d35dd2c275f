"""README's topic table, rendered from course.toml so that its counts cannot go stale."""

from __future__ import annotations

from pathlib import Path

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course

BEGIN = "<!-- topics: generated from course.toml by `grade dev readme`; edit course.toml instead -->"
END = "<!-- end of topics -->"


class ReadmeError(ValueError):
    """README.md has no generated topic block (or a broken one)."""


def _points(x: float) -> str:
    return f"{x:g}"


def topic_table(course: Course) -> str:
    """The counts line and one row per topic, in learning order."""
    total = sum(t.points for t in course.topics)
    lines = [
        f"{len(course.topics)} topics, {len(course.exercises)} exercises, {_points(total)} points "
        "(`grade list` shows them all, in learning order):",
        "",
        "| topic | what it teaches | exercises | points |",
        "|---|---|---:|---:|",
    ]
    for t in course.topics:
        lines.append(f"| `{t.id}` | {t.title} | {len(t.exercises)} | {_points(t.points)} |")
    return "\n".join(lines)


def _split(text: str, path: Path) -> tuple[str, str, str]:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ReadmeError(f"{path}: no generated topic block ({BEGIN} ... {END})")
    return text[: start + len(BEGIN)], text[start + len(BEGIN) : end], text[end:]


def readme_is_current(course: Course, path: Path) -> bool:
    """Whether the README's generated block is what course.toml gives today."""
    _, block, _ = _split(path.read_text(encoding="utf-8"), path)
    return block.strip("\n") == topic_table(course)


def write_readme(course: Course, path: Path) -> bool:
    """Rewrite the generated block (atomically); False when it was already current."""
    head, block, tail = _split(path.read_text(encoding="utf-8"), path)
    fresh = topic_table(course)
    if block.strip("\n") == fresh:
        return False
    write_atomic(path, f"{head}\n{fresh}\n{tail}".encode())
    return True
