"""A student bundle's declaration (release.json): the hidden checks left out, the recorded answers.

`grade release` writes it; its presence at a course root makes that course a student bundle.
There, `grade` serves the `reference` fixture from the recorded answers (no model solutions
ship) and lists each hidden check as deferred: "run at grading time", with its points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlgrade.core.manifest import ManifestError

BUNDLE_FILE = "release.json"
ANSWERS_FILE = "graders/answers.json"
FORMAT = 1
DEFERRED_MESSAGE = "run at grading time"


class BundleError(ManifestError):
    """A student bundle's release.json or answers are missing or malformed; one line."""


@dataclass(frozen=True)
class HiddenCheck:
    """A hidden check as a bundle knows it: which exercise, its name, its points (weight)."""

    exercise: str
    name: str
    points: float

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "name": self.name, "points": self.points}


@dataclass(frozen=True)
class BundleInfo:
    version: str  # the dlgrade version that wrote the bundle
    hidden: tuple[HiddenCheck, ...]
    answers: str = ANSWERS_FILE  # relative to the bundle root

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "what": "a dlgrade student bundle: no model solutions, hidden checks run at grading time",
            "dlgrade_version": self.version,
            "answers": self.answers,
            "hidden_checks": [h.to_dict() for h in self.hidden],
        }
        return json.dumps(data, indent=2) + "\n"


def is_bundle(root: Path) -> bool:
    return (root / BUNDLE_FILE).is_file()


def load_bundle(root: Path) -> BundleInfo | None:
    """The bundle declaration at `root`, or None when `root` is a course's source repository."""
    path = root / BUNDLE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r} is not {FORMAT}")
        hidden = tuple(
            HiddenCheck(str(h["exercise"]), str(h["name"]), float(h["points"])) for h in data["hidden_checks"]
        )
        answers = str(data.get("answers", ANSWERS_FILE))
        if Path(answers).is_absolute() or ".." in Path(answers).parts:
            raise ValueError(f"answers path {answers!r} must stay inside the bundle")
        return BundleInfo(version=str(data.get("dlgrade_version", "")), hidden=hidden, answers=answers)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError(f"{path}: not a valid bundle declaration: {exc}") from None
