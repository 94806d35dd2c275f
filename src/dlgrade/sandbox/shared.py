"""One sandbox per set of guards, shared by every grading run in this process, closed at exit."""

from __future__ import annotations

import atexit

from dlgrade.sandbox.pool import Sandbox

_SHARED: dict[tuple[str, ...], Sandbox] = {}


def shared_sandbox(guard_patterns: list[str]) -> Sandbox:
    """A sandbox reused by every grading run in this process with the same guards (a broken
    one is closed and replaced)."""
    key = tuple(sorted(set(guard_patterns)))
    box = _SHARED.get(key)
    if box is not None and box.broken:
        box.close()
        box = None
    if box is None:
        box = _SHARED[key] = Sandbox(list(key))
        box.start()
    return box


@atexit.register
def close_shared() -> None:
    for box in _SHARED.values():
        box.close()
    _SHARED.clear()
