"""The docs' statements of the course's size are true: every "N exercises", "N topics",
"X/N points" and "k/N exercises" in README.md, CONTRIBUTING.md and docs/ agrees with course.toml
(the whole course's count, or the count of a topic the same line names), unless the
line is a dated measurement record: it says "measured" or "when the course had"."""

from __future__ import annotations

import re

from dlgrade.core.manifest import Course
from tests.support import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
RECORD = re.compile(r"measured|when the course had", re.IGNORECASE)
COUNTS = {  # what a number counts, from the pattern that found it
    "exercises": re.compile(r"(?<![\w/.-])(\d+) exercises\b|\b\d+/(\d+) exercises\b"),
    "topics": re.compile(r"(?<![\w/.-])(\d+) topics\b"),
    "points": re.compile(r"\b[\d.]+/(\d+) points\b"),
}


def sizes(course: Course, topic_ids: set[str] | None = None) -> dict[str, set[int]]:
    """The counts a line may state: the whole course's, and those of the topics it names."""
    topics = [t for t in course.topics if topic_ids is None or t.id in topic_ids]
    whole = topic_ids is None
    return {
        "exercises": {len(course.exercises)} if whole else {len(t.exercises) for t in topics},
        "topics": {len(course.topics)} if whole else set(),
        "points": {round(sum(e.points for e in course.exercises))}
        if whole
        else {round(t.points) for t in topics},
    }


def stale_counts(text: str, course: Course, name: str = "doc") -> list[str]:
    """`name:line: N what (the course has M)` for each count that is not the course's."""
    found = []
    whole = sizes(course)
    for n, line in enumerate(text.splitlines(), 1):
        if RECORD.search(line):
            continue
        named = sizes(course, set(re.findall(r"[a-z_]+", line)))
        for what, pattern in COUNTS.items():
            for match in pattern.finditer(line):
                value = int(next(g for g in match.groups() if g is not None))
                if value not in whole[what] | named[what]:
                    found.append(f"{name}:{n}: {value} {what} (the course has {min(whole[what])})")
    return found


def test_every_doc_states_the_courses_size_as_course_toml_has_it(course: Course) -> None:
    problems = [p for doc in DOCS for p in stale_counts(doc.read_text(), course, doc.name)]
    assert problems == []


def test_a_stale_count_is_found_and_a_measurement_record_is_not(course: Course) -> None:
    n, total = len(course.exercises), round(sum(e.points for e in course.exercises))
    stale = f"The course has {n + 1} exercises.\ncourse ██ 7.08/{total + 1} points · 1/{n} exercises\n"
    assert [p.split(": ", 1)[1] for p in stale_counts(stale, course)] == [
        f"{n + 1} exercises (the course has {n})",
        f"{total + 1} points (the course has {total})",
    ]
    record = f"Throughput, measured when the course had {n + 1} exercises: 2 s.\n"
    assert stale_counts(record, course) == []
    assert stale_counts(f"{n} exercises, {len(course.topics)} topics, 0/{total} points\n", course) == []


def test_a_topic_named_on_the_line_gives_its_own_count(course: Course) -> None:
    topic = course.topics[0]
    line = f"`{topic.id}` ({len(topic.exercises)} exercises)\n"
    assert stale_counts(line, course) == []
    assert stale_counts(f"`{topic.id}` ({len(topic.exercises) + 100} exercises)\n", course) != []
