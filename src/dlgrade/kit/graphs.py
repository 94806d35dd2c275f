"""Computational graphs as plain data (topic `autodiff`): seeded random graphs and torch's answers.

A graph is a list of nodes, node i a tuple ("op", operand, ...) whose operands are indices
of earlier nodes, or numbers for "input", "const" and "pow"; the last node is the output
(the contract in exercises/autodiff.py). The expected side of the autodiff checks is torch
itself: the graph evaluated with torch ops in float64 and differentiated by
`torch.autograd.grad`; forward mode's directional derivative is that gradient dotted with v.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import torch

Graph = list[tuple]

UNARY_OPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "neg": torch.neg,
    "exp": torch.exp,
    "log": torch.log,
    "sin": torch.sin,
    "tanh": torch.tanh,
    "relu": torch.relu,
}
BINARY_OPS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
}
POWERS = (2, 3, -1, 0.5)

# The lesson's two worked examples: (graph, x, f(x), gradient).
LESSON_XY = (
    [("input", 0), ("input", 1), ("pow", 0, 2), ("mul", 0, 1), ("pow", 1, 2), ("add", 2, 3), ("add", 5, 4)],
    (2.0, 3.0),
    19.0,
    (7.0, 8.0),
)
LESSON_POLY = (
    [
        ("input", 0),
        ("pow", 0, 2),
        ("const", 2.0),
        ("mul", 2, 0),
        ("add", 1, 3),
        ("const", 1.0),
        ("add", 4, 5),
    ],
    (3.0,),
    16.0,
    (8.0,),
)


def evaluate(graph: Graph, x: torch.Tensor) -> torch.Tensor:
    """f(x) with torch ops on 0-d tensors, so that autograd and torch.func can differentiate it."""
    vals: list[torch.Tensor] = []
    for item in graph:
        kind = item[0]
        if kind == "input":
            vals.append(x[item[1]])
        elif kind == "const":
            vals.append(torch.tensor(float(item[1]), dtype=x.dtype, device=x.device))
        elif kind == "pow":
            vals.append(vals[item[1]] ** item[2])
        elif kind in UNARY_OPS:
            vals.append(UNARY_OPS[kind](vals[item[1]]))
        else:
            vals.append(BINARY_OPS[kind](vals[item[1]], vals[item[2]]))
    return vals[-1]


def torch_grad(graph: Graph, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x), grad f(x)) by torch.autograd."""
    leaf = x.detach().clone().requires_grad_(True)
    y = evaluate(graph, leaf)
    (g,) = torch.autograd.grad(y, leaf, allow_unused=True)
    return y.detach(), torch.zeros_like(x) if g is None else g


def torch_jvp(graph: Graph, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x), grad f(x) . v): the directional derivative from torch.autograd's gradient.

    Mathematically what `torch.func.jvp` returns; torch's forward-mode entry points
    (torch.func.jvp, torch.autograd.forward_ad) import torch._dynamo on first use, which took
    4 to 13 s on the development machine, against milliseconds for autograd on these graphs;
    tests/test_grader_autodiff.py pins this function to torch.func.jvp on real-valued v.
    """
    y, g = _gradient_of(graph, x)
    return y, (g * v).sum()


_last: list[tuple[Graph, torch.Tensor, tuple[int, int], tuple[torch.Tensor, torch.Tensor]]] = []


def _gradient_of(graph: Graph, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torch_grad(graph, x), kept for the next call on the same objects (same list, same
    tensor, neither changed since): a check asks for one graph's derivative along several
    directions (`directions` in the autodiff graders), and each would evaluate it again."""
    stamp = (len(graph), x._version)
    if _last and _last[0][0] is graph and _last[0][1] is x and _last[0][2] == stamp:
        return _last[0][3]
    answer = torch_grad(graph, x)
    _last[:] = [(graph, x, stamp, answer)]
    return answer


def _pick(rng: random.Random, n: int) -> int:
    """An earlier node: mostly a recent one, sometimes any (so that nodes are shared)."""
    if rng.random() < 0.75:
        return rng.randrange(max(0, n - 12), n)
    return rng.randrange(0, n)


def _new_node(rng: random.Random, vals: list[float]) -> tuple[tuple, float] | None:
    """One random node whose value is finite and moderate, or None to try again."""
    n = len(vals)
    kind = rng.choice(["add", "sub", "mul", "div", "add", "mul", "neg", "exp", "log", "sin", "tanh",
                     "relu", "pow", "const"])  # fmt: skip
    if kind == "const":
        c = round(rng.uniform(-2.0, 2.0), 3)
        return ("const", c), c
    i = _pick(rng, n)
    a = vals[i]
    if kind in BINARY_OPS:
        j = i if rng.random() < 0.05 else _pick(rng, n)
        b = vals[j]
        if kind == "div" and abs(b) < 0.3:
            return None
        value = {
            "add": a + b,
            "sub": a - b,
            "mul": a * b,
            "div": a / max(abs(b), 1e-300) * math.copysign(1, b),
        }[kind]
        node: tuple = (kind, i, j)
    elif kind == "pow":
        p = rng.choice(POWERS)
        if (p == 0.5 and a < 0.05) or (p == -1 and abs(a) < 0.3):
            return None
        value, node = a**p, ("pow", i, p)
    else:
        if (kind == "log" and a < 0.05) or (kind == "exp" and a > 3.0) or (kind == "relu" and abs(a) < 1e-3):
            return None
        funcs = {"neg": lambda t: -t, "exp": math.exp, "log": math.log, "sin": math.sin,
                 "tanh": math.tanh, "relu": lambda t: max(t, 0.0)}  # fmt: skip
        value, node = funcs[kind](a), (kind, i)
    return (node, value) if abs(value) < 30.0 else None


def _special(rng: random.Random, graph: Graph, vals: list[float], xs: list[float], k: int) -> list[int]:
    """Append ("input", k) (again, if it was placed before) and, one time in ten, relu at
    exactly 0 over it: ("relu", x_k - c) with c = x_k, exact in any arithmetic. Returns the
    relu nodes, which the output then uses so that relu's derivative at 0 counts."""
    graph.append(("input", k))
    vals.append(xs[k])
    if rng.random() >= 0.1:
        return []
    i = len(graph) - 1
    graph += [("const", xs[k]), ("sub", i, i + 1), ("relu", i + 2)]
    vals += [xs[k], 0.0, 0.0]
    return [i + 3]


def random_graph(seed: int, n_inputs: int, n_nodes: int) -> tuple[Graph, torch.Tensor]:
    """A seeded random graph over `n_inputs` inputs with about `n_nodes` nodes, and an x where
    every node's value is finite and moderate (logs of positive numbers, no division by ~0).

    Any layout the contract allows: input nodes anywhere in the list, in any order, some
    ("input", k) more than once, about one input in eight never used, shared subexpressions
    (nodes used by many later ones), and relu at exactly 0 (over x_k - c with c = x_k). The
    output adds up every tenth node and each relu at 0, so that most inputs reach it along
    many paths."""
    rng = random.Random(seed)
    xs = [round(rng.uniform(0.2, 1.5), 6) * rng.choice((-1, 1)) for _ in range(n_inputs)]
    unused = set(rng.sample(range(n_inputs), n_inputs // 8))
    waiting = [k for k in range(n_inputs) if k not in unused]
    rng.shuffle(waiting)
    graph: Graph = []
    vals: list[float] = []
    placed: list[int] = []
    at_zero: list[int] = []
    body = max(n_inputs + 1, n_nodes * 10 // 11)
    while len(graph) < body or waiting:
        if waiting and (not graph or rng.random() * max(1, body - len(graph)) < len(waiting)):
            placed.append(waiting.pop())
            at_zero += _special(rng, graph, vals, xs, placed[-1])
            continue
        if placed and rng.random() < 0.03:
            at_zero += _special(rng, graph, vals, xs, rng.choice(placed))
            continue
        made = next((m for _ in range(20) if (m := _new_node(rng, vals)) is not None), None)
        node, value = made if made is not None else (("tanh", len(vals) - 1), math.tanh(vals[-1]))
        graph.append(node)
        vals.append(value)
    total = len(graph) - 1
    for i in [*range(1, len(graph) - 1, 10), *at_zero]:
        graph.append(("add", total, i))
        total = len(graph) - 1
    return graph, torch.tensor(xs, dtype=torch.float64)
