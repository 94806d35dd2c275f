"""Model solutions for topic `autodiff` (from scratch: plain floats or tensor algebra, no autograd)."""

import math

import torch

Graph = list[tuple]


def _value(node: tuple, vals: list[float], x: list[float]) -> float:
    op = node[0]
    if op == "input":
        return x[node[1]]
    if op == "const":
        return float(node[1])
    if op == "pow":
        return vals[node[1]] ** node[2]
    a = vals[node[1]]
    if op in UNARY:
        return UNARY[op][0](a)
    return BINARY[op][0](a, vals[node[2]])


UNARY = {  # op: (value, derivative from (a, value))
    "neg": (lambda a: -a, lambda a, y: -1.0),
    "exp": (math.exp, lambda a, y: y),
    "log": (math.log, lambda a, y: 1.0 / a),
    "sin": (math.sin, lambda a, y: math.cos(a)),
    "tanh": (math.tanh, lambda a, y: 1.0 - y * y),
    "relu": (lambda a: a if a > 0 else 0.0, lambda a, y: 1.0 if a > 0 else 0.0),
}
BINARY = {  # op: (value, (d/da, d/db) from (a, b))
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: (1.0 / b, -a / (b * b))),
}


def _partials(node: tuple, vals: list[float], y: float) -> list[tuple[int, float]]:
    """(operand index, d node / d operand) for every operand of a node."""
    op = node[0]
    if op in ("input", "const"):
        return []
    i = node[1]
    if op == "pow":
        p = node[2]
        return [(i, p * vals[i] ** (p - 1))]
    if op in UNARY:
        return [(i, UNARY[op][1](vals[i], y))]
    da, db = BINARY[op][1](vals[i], vals[node[2]])
    return [(i, da), (node[2], db)]


def _forward(graph: Graph, xs: list[float]) -> list[float]:
    vals: list[float] = []
    for node in graph:
        vals.append(_value(node, vals, xs))
    return vals


def jvp(graph: Graph, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x), grad f(x) . v) from one sweep of (value, tangent) pairs."""
    xs, vs = x.tolist(), v.tolist()
    vals: list[float] = []
    tans: list[float] = []
    for node in graph:
        y = _value(node, vals, xs)
        t = vs[node[1]] if node[0] == "input" else 0.0
        for i, d in _partials(node, vals, y):
            t += d * tans[i]
        vals.append(y)
        tans.append(t)
    f64 = torch.float64
    return torch.tensor(vals[-1], dtype=f64), torch.tensor(tans[-1], dtype=f64)


def grad(graph: Graph, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x), grad f(x)) from one forward and one backward sweep."""
    xs = x.tolist()
    vals = _forward(graph, xs)
    adj = [0.0] * len(graph)
    adj[-1] = 1.0
    g = [0.0] * len(xs)
    for k in range(len(graph) - 1, -1, -1):
        node, a = graph[k], adj[k]
        if a == 0.0:
            continue
        if node[0] == "input":
            g[node[1]] += a
        for i, d in _partials(node, vals, vals[k]):
            adj[i] += a * d
    f64 = torch.float64
    return torch.tensor(vals[-1], dtype=f64), torch.tensor(g, dtype=f64)


def linear_l2_backward(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """loss = sum((x @ w + b)**2) and its gradients with respect to x, w and b, by hand."""
    y = x @ w + b
    loss = y.pow(2).sum()
    dy = 2.0 * y
    return loss, dy @ w.T, x.T @ dy, dy.sum(dim=0)
