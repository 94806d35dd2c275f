"""Independent versions of the `activations` model solutions (torch's own, or another formula).

tests/test_reference.py pins every answer the graders ask reference/activations.py for against
COUNTERPARTS here: exercise id -> a function with the same arguments that returns what the
model solution returns (only the output where the model solution returns (out, cache)).
Course staff only: nothing here ships to students, and it is not graded.
"""

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

COUNTERPARTS: dict[str, Callable[..., Any]] = {
    "prelu_forward": lambda x, alpha: F.prelu(x, alpha),
    "tanh_forward": torch.tanh,
    "swish_forward": lambda x, beta: x * torch.sigmoid(beta * x),
}
