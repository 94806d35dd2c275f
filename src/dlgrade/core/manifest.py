"""Load and validate the course manifest (course.toml): the one declaration of every exercise."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlgrade.core.rule_sets import Rules, RuleSet, parse_rule_set, rule_refs
from dlgrade.core.suggest import did_you_mean

MANIFEST_NAME = "course.toml"
SCHEMA_VERSION = 1
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Names the CLI uses for its own commands; an exercise or topic may not take them.
RESERVED_IDS = frozenset(
    {"check", "list", "package", "verify", "batch", "merge", "report", "nbgrader", "release", "dev", "all"}
    | {"hint", "reset", "watch"}
)


class ManifestError(Exception):
    """The course manifest is missing or malformed; the message is one line."""


@dataclass(frozen=True)
class Exercise:
    id: str
    topic: str
    module: str
    points: float
    hint: str  # tier 1 of `hints`: the nudge the table shows
    summary: str
    time_limit: float
    memory_limit_mb: int
    rules: Rules
    hints: tuple[str, ...] = ()  # every tier in order (`hint`, then the manifest's `hints`)

    @property
    def function(self) -> str:
        """The function students write: its name is the exercise id."""
        return self.id


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    module: str
    exercises: tuple[Exercise, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    topics: tuple[Topic, ...]
    rule_sets: dict[str, RuleSet] = field(default_factory=dict)

    @functools.cached_property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(e for t in self.topics for e in t.exercises)

    @functools.cached_property
    def _by_id(self) -> dict[str, Exercise]:
        return {e.id: e for e in self.exercises}

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(t.module for t in self.topics)

    def exercise(self, exercise_id: str) -> Exercise:
        return self._by_id[exercise_id]

    def topic(self, topic_id: str) -> Topic:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(topic_id)

    def select(self, names: tuple[str, ...] | list[str]) -> tuple[Exercise, ...]:
        """Exercises named directly or through their topic, in course order."""
        if not names:
            return self.exercises
        topic_ids = {t.id for t in self.topics}
        exercise_ids = {e.id for e in self.exercises}
        unknown = [n for n in names if n not in topic_ids and n not in exercise_ids]
        if unknown:
            close = did_you_mean(unknown[0], topic_ids | exercise_ids)
            raise ManifestError(
                f"unknown topic or exercise {unknown[0]!r}{close}; "
                f"topics: {', '.join(sorted(topic_ids))} (`grade list` shows every exercise)"
            )
        wanted = set(names)
        return tuple(e for e in self.exercises if e.id in wanted or e.topic in wanted)

    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    def reference_dir(self) -> Path:
        return self.root / "reference"

    def graders_dir(self) -> Path:
        return self.root / "graders"

    def mistakes_dir(self) -> Path:
        """Known mistakes (mistakes/<module>/*.py): instructor-only, like reference/ (core.mistakes)."""
        return self.root / "mistakes"

    def grader_path(self, topic_id: str) -> Path:
        return self.graders_dir() / f"test_{topic_id}.py"

    def all_rule_patterns(self) -> list[str]:
        """Every call pattern any exercise forbids or counts: the guards a worker installs."""
        names: set[str] = set()
        for e in self.exercises:
            names.update(e.rules.forbidden_calls())
            names.update(e.rules.call_counts())
        return sorted(names)


def find_course_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds a course manifest."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    raise ManifestError(f"no {MANIFEST_NAME} in {start} or any folder above it; run grade inside a course")


def load_course(root: Path) -> Course:
    path = root / MANIFEST_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _parse(root.resolve(), data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{path}: {exc}") from None


def _parse(root: Path, data: dict[str, Any]) -> Course:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"schema_version must be {SCHEMA_VERSION}, got {version!r}")
    defaults = data.get("defaults", {})
    rule_sets = {
        name: parse_rule_set(name, body, data.get("apis", {})) for name, body in data.get("rules", {}).items()
    }
    course_rules = rule_refs(data.get("course_rules", []), rule_sets, "course_rules")
    topics_raw = data.get("topics", [])
    exercises_raw = data.get("exercises", [])
    if not topics_raw:
        raise ValueError("no [[topics]] declared")
    seen: set[str] = set()
    topics = []
    for t in topics_raw:
        tid = _ident(t["id"], "topic id", seen)
        topic_rules = course_rules + rule_refs(t.get("rules", []), rule_sets, f"topic {tid}")
        module = t.get("module", tid)
        if not _ID.match(module):
            raise ValueError(f"topic {tid}: module {module!r} is not a Python module name")
        ex = tuple(
            _exercise(e, tid, module, topic_rules, rule_sets, defaults, seen)
            for e in exercises_raw
            if e.get("topic") == tid
        )
        if not ex:
            raise ValueError(f"topic {tid} has no exercises")
        topics.append(Topic(id=tid, title=str(t["title"]), module=module, exercises=ex))
    topic_ids = {t.id for t in topics}
    for e in exercises_raw:
        if e.get("topic") not in topic_ids:
            raise ValueError(f"exercise {e.get('id')!r}: unknown topic {e.get('topic')!r}")
    return Course(
        root=root, title=str(data.get("title", root.name)), topics=tuple(topics), rule_sets=rule_sets
    )


def _exercise(
    e: dict[str, Any],
    topic: str,
    module: str,
    topic_rules: tuple[RuleSet, ...],
    rule_sets: dict[str, RuleSet],
    defaults: dict[str, Any],
    seen: set[str],
) -> Exercise:
    eid = _ident(e["id"], "exercise id", seen)
    points = float(e["points"])
    if points <= 0:
        raise ValueError(f"exercise {eid}: points must be positive")
    hint = str(e.get("hint", "")).strip()
    more = e.get("hints", [])
    if not isinstance(more, list) or not all(isinstance(h, str) and h.strip() for h in more):
        raise ValueError(f"exercise {eid}: `hints` must be a list of non-empty strings")
    if not hint:
        raise ValueError(f"exercise {eid}: empty hint")
    own = rule_refs(e.get("rules", []), rule_sets, f"exercise {eid}")
    drop = set(e.get("drop_rules", []))
    sets = tuple(rs for rs in topic_rules if rs.name not in drop) + own
    time_limit = float(e.get("time_limit", defaults.get("time_limit", 10.0)))
    memory = int(e.get("memory_limit_mb", defaults.get("memory_limit_mb", 2048)))
    if time_limit <= 0 or memory <= 0:
        raise ValueError(f"exercise {eid}: time_limit and memory_limit_mb must be positive")
    return Exercise(
        id=eid,
        topic=topic,
        module=module,
        points=points,
        hint=hint,
        summary=str(e.get("summary", "")).strip(),
        time_limit=time_limit,
        memory_limit_mb=memory,
        rules=Rules(sets=sets, allow=tuple(e.get("allow", []))),
        hints=(hint, *(h.strip() for h in more)),
    )


def _ident(value: Any, what: str, seen: set[str]) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"{what} {value!r} must be lower_snake_case")
    if value in RESERVED_IDS:
        raise ValueError(f"{what} {value!r} is a grade command name")
    if value in seen:
        raise ValueError(f"{what} {value!r} declared twice (topic and exercise ids share one namespace)")
    seen.add(value)
    return value
