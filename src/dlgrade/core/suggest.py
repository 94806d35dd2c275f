"""Did-you-mean suggestions for a mistyped topic or exercise name (difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choices, or '' when none is close."""
    close = difflib.get_close_matches(name, sorted(set(choices)), n=2, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)"
