"""Which known-wrong files may draw from the global RNG, read from their source.

A file that draws from torch's global RNG (`torch.randn(...)` without `generator=`, dropout,
`torch.manual_seed`, Python's or NumPy's `random`) shows numbers that depend on what the
grading process drew before, so its instructor grading is not shared across processes
(tests/rounds.py). The reading errs towards "draws": a file it flags is only graded in
process, which costs time, never a check.
"""

from __future__ import annotations

import ast
from pathlib import Path

# callables that draw from the global RNG unless given `generator=`
DRAWS = {
    *("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like"),
    *("normal", "bernoulli", "multinomial", "poisson", "gumbel_softmax", "rrelu", "rrelu_"),
    *("normal_", "uniform_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_"),
    *("bernoulli_", "trunc_normal_", "xavier_normal_", "xavier_uniform_", "kaiming_normal_"),
    *("kaiming_uniform_", "orthogonal_", "sparse_", "dropout", "dropout_", "alpha_dropout"),
    *("feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"),
}
SEEDS = {"manual_seed", "seed", "set_rng_state", "get_rng_state", "initial_seed"}  # torch.NAME
NAMES = {"random", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "RReLU"}


def draws_from_global_rng(source: str) -> bool:
    """Whether Python `source` may draw from (or seed) a global RNG."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in DRAWS and not any(k.arg == "generator" for k in node.keywords):
                return True
            on_torch = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "torch"
            if name in SEEDS and on_torch:
                return True
        if (isinstance(node, ast.Name) and node.id in NAMES) or (
            isinstance(node, ast.Attribute) and node.attr in NAMES
        ):
            return True
    return False


def file_draws_from_global_rng(path: Path) -> bool:
    return draws_from_global_rng(path.read_text())
