"""Text that comes from student code (exception messages, prints): capped, and withheld where
it quotes the course's private files.

Kernel containment keeps a worker from reading reference/ and graders/ at all; this is the
second line, in case text of theirs reaches a worker some other way. A message is withheld when
any 24-character stretch of it (white space folded) stands in the model solutions or the
graders but not in the public stubs.
"""

from __future__ import annotations

import functools
from pathlib import Path

from dlgrade.core.manifest import Course

MAX_CHARS = 300
WINDOW = 24
WITHHELD = "[withheld: it quotes the course's private files]"


def _folded(text: str) -> str:
    return " ".join(text.split())


def _corpus(folders: tuple[Path, ...]) -> str:
    parts = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                try:
                    parts.append(_folded(path.read_text(encoding="utf-8", errors="replace")))
                except OSError:
                    continue
    return "\n".join(parts)


@functools.lru_cache(maxsize=4)
def _texts(root: Path, stamp: float) -> tuple[str, str]:
    private = _corpus((root / "reference", root / "graders"))
    public = _corpus((root / "exercises",))
    return private, public


def _stamp(course: Course) -> float:
    stamps = [0.0]
    for folder in (course.reference_dir(), course.graders_dir(), course.exercises_dir()):
        if folder.is_dir():
            stamps += [p.stat().st_mtime for p in folder.rglob("*.py")]
    return max(stamps)


def quotes_private(text: str, course: Course) -> bool:
    """Whether `text` holds a stretch of the course's private files that the stubs do not."""
    private, public = _texts(course.root, _stamp(course))
    folded = _folded(text)
    if not private or len(folded) < WINDOW:
        return False
    for start in range(0, len(folded) - WINDOW + 1, WINDOW // 3):
        piece = folded[start : start + WINDOW]
        if piece in private and piece not in public:
            return True
    return False


def clean(text: str, course: Course, limit: int = MAX_CHARS) -> str:
    """`text` capped at `limit` characters, or WITHHELD if it quotes the private files."""
    if quotes_private(text, course):
        return WITHHELD
    return text if len(text) <= limit else text[: limit - 1] + "…"
