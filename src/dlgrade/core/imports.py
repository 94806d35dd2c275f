"""Heavy imports without the cyclic garbage collector, frozen once made.

Importing torch creates a few hundred thousand objects, none of them garbage, and the
collector walks them again and again while they are made (generation 2 more than once); and
once it is back on, its next young collection walks every one of them again (80 to 100 ms).
`heavy_imports()` pauses the collector for the block, then freezes what the process holds
(`gc.freeze`: never walked again; it lives as long as the process) before the collector is
back on: 11 to 15 % less CPU for the import (bench/bench_imports.py) and no long collection
after it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def heavy_imports() -> Iterator[None]:
    """The cyclic collector off inside the block (if it was on); what the process holds after
    it frozen, then the collector back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_on:
            gc.enable()
