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


def _mlp(x, W1, b1, W2, b2, activation):
    """nn.Sequential(Linear, ReLU/Sigmoid/Tanh, Linear) holding those weights: (out, hidden)."""
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[activation]
    net = torch.nn.Sequential(
        torch.nn.Linear(W1.shape[0], W1.shape[1]), act(), torch.nn.Linear(W2.shape[0], W2.shape[1])
    ).to(dtype=x.dtype, device=x.device)
    with torch.no_grad():
        net[0].weight.copy_(W1.T)
        net[0].bias.copy_(b1)
        net[2].weight.copy_(W2.T)
        net[2].bias.copy_(b2)
        hidden = net[1](net[0](x))
        return net(x), hidden


COUNTERPARTS: dict[str, Callable[..., Any]] = {
    "prelu_forward": lambda x, alpha: F.prelu(x, alpha),
    "tanh_forward": torch.tanh,
    "swish_forward": lambda x, beta: x * torch.sigmoid(beta * x),
    "mlp_forward": _mlp,
}
