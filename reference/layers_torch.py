"""Independent versions of the `layers` model solutions (torch's own, or another formula).

tests/test_reference.py pins every answer the graders ask reference/layers.py for against
COUNTERPARTS here: exercise id -> a function with the same arguments that returns what the
model solution returns (only the output where the model solution returns (out, cache)).
Course staff only: nothing here ships to students, and it is not graded.
"""

from collections.abc import Callable
from typing import Any

import torch

COUNTERPARTS: dict[str, Callable[..., Any]] = {
    "affine_forward": lambda x, W, b: x.reshape(x.shape[0], -1) @ W + b,
    "relu_forward": torch.relu,
    "sigmoid_forward": torch.sigmoid,
}
