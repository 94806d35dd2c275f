"""The grading process computes on one torch thread while it grades.

Its own computations (the model solutions, the graders' experiments and judging) are small
tensors: splitting them over torch's intra-op threads costs more than it saves, and on a
machine whose cores are busy with the workers and the other lanes those threads wait for a
core (a 50-layer experiment of topic normalization: about 4 CPU-ms on one thread, 60 to 220
on two under load). Workers and forked lanes already compute on one thread, so every lane
now judges with the same arithmetic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch computes on one intra-op thread inside the block; the caller's count after it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
