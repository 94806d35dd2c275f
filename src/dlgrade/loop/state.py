"""The student's own state beside the exercises (.dlgrade/): hint tiers opened, last results.

Two small JSON files, each written atomically: `hints.json` ({exercise: tiers opened}) and
`last.json` ({exercise: the exercise's last result, as `ExerciseResult.to_dict()`}). Both are
conveniences for the student's loop (`grade hint`, `grade list`); a missing or damaged file
reads as empty, never as an error.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.result import ExerciseResult, GradeResult

STATE_DIR = ".dlgrade"
HINTS_FILE = "hints.json"
LAST_FILE = "last.json"


def state_dir(course: Course) -> Path:
    return course.root / STATE_DIR


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(course: Course, name: str, data: dict[str, Any]) -> Path:
    folder = state_dir(course)
    folder.mkdir(exist_ok=True)
    return write_atomic(folder / name, json.dumps(data, indent=1, sort_keys=True) + "\n")


def hints_opened(course: Course) -> dict[str, int]:
    raw = _read(state_dir(course) / HINTS_FILE)
    return {k: v for k, v in raw.items() if isinstance(v, int) and v > 0}


def open_hint(course: Course, exercise: Exercise) -> tuple[int, str]:
    """Open the next hint tier of `exercise` (the last one again once all are open).

    Returns (tier, text), tier counted from 1.
    """
    opened = hints_opened(course)
    tier = min(opened.get(exercise.id, 0) + 1, len(exercise.hints))
    opened[exercise.id] = max(tier, opened.get(exercise.id, 0))
    _write(course, HINTS_FILE, opened)
    return tier, exercise.hints[tier - 1]


def with_hints_opened(course: Course, result: GradeResult) -> GradeResult:
    """The result with each exercise's count of hint tiers opened (for instructors)."""
    opened = hints_opened(course)
    exercises = tuple(replace(e, hints_opened=opened.get(e.id, 0)) for e in result.exercises)
    return replace(result, exercises=exercises)


def last_results(course: Course) -> dict[str, ExerciseResult]:
    out = {}
    for eid, d in _read(state_dir(course) / LAST_FILE).items():
        try:
            out[eid] = ExerciseResult.from_dict(d)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def save_last(course: Course, result: GradeResult) -> None:
    """Remember each graded exercise's result; exercises not graded this time keep theirs."""
    known = {e.id for e in course.exercises}
    data = {k: v for k, v in _read(state_dir(course) / LAST_FILE).items() if k in known}
    data.update({e.id: e.to_dict() for e in result.exercises})
    _write(course, LAST_FILE, data)


def forget_last(course: Course, exercise_ids: list[str]) -> None:
    """Drop the remembered results of exercises whose stub was put back (`grade reset`)."""
    path = state_dir(course) / LAST_FILE
    data = _read(path)
    if any(eid in data for eid in exercise_ids):
        _write(course, LAST_FILE, {k: v for k, v in data.items() if k not in exercise_ids})
