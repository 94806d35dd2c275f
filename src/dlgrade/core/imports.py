"""Heavy imports without the cyclic garbage collector.

Importing torch creates a few hundred thousand objects, none of them garbage, and the
collector walks them again and again while they are made (generation 2 more than once):
about a seventh of the import's CPU time on the development machine (bench/bench_imports.py).
`without_gc()` pauses the collector for the block and restores it after, so only the imports
that a command makes on its way to grading are spared it; nothing runs for long without it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """The cyclic collector off inside the block (if it was on), back on after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
