"""How many lanes `grade` uses, and which lane grades which exercise (engine.lanes).

Importing this module imports neither torch nor pytest."""

from __future__ import annotations

import fcntl
import mmap
import os
import tempfile
from collections.abc import Sequence

ENV = "DLGRADE_LANES"  # `grade`'s default number of lanes, where set (--lanes wins)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Claims:
    """Which lane grades which exercise: the first lane to claim it. Shared by the forked lanes
    (an anonymous shared mapping, one byte per exercise, under a POSIX record lock)."""

    def __init__(self, exercises: Sequence[str]) -> None:
        self._index = {e: i for i, e in enumerate(exercises)}
        self._owners = mmap.mmap(-1, max(1, len(self._index)))
        self._lock = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the claims
        self.lane = 0

    def _owner(self, exercise: str, claim: bool) -> int:
        i = self._index.get(exercise)
        if i is None:
            return self.lane + 1
        fcntl.lockf(self._lock, fcntl.LOCK_EX)
        try:
            if claim and self._owners[i] == 0:
                self._owners[i] = self.lane + 1
            return self._owners[i]
        finally:
            fcntl.lockf(self._lock, fcntl.LOCK_UN)

    def take(self, exercise: str) -> bool:
        """Claim `exercise` for this lane if no lane has; True if it is this lane's."""
        return self._owner(exercise, claim=True) == self.lane + 1

    def mine(self, exercise: str) -> bool:
        return self._owner(exercise, claim=False) == self.lane + 1

    def owner(self, exercise: str) -> int:
        """The lane that graded `exercise` (0 if none claimed it)."""
        return max(self._owner(exercise, claim=False) - 1, 0)
