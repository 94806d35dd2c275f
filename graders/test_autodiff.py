"""Graders for topic `autodiff`: forward mode (jvp) and reverse mode (grad) on computational graphs,
and the lesson's reverse-mode example with matrix parameters (linear_l2_backward).

The expected side is torch itself, not the model solutions: each graph is evaluated with torch
ops in float64 and differentiated by `torch.autograd.grad`; forward mode is judged against that
gradient dotted with v (see dlgrade.kit.graphs). Graphs are the lesson's two worked examples, one tiny
graph per operation (relu at exactly 0 included), graphs of every layout (inputs late, out of
order, repeated and unused, an input node as the output), seeded random graphs of every
layout, and one large graph (about 6,000 nodes over 3,000 inputs). Directions v are unit
vectors, all-ones and real numbers.
On the large graph one call of the model solution takes 0.2-0.7 s on a loaded 2-core
machine, almost all of it sending the graph to the sandbox and back; the time limit is 4 s
(course.toml), at least 5x that; one forward sweep per input (jvp along every unit vector)
takes ~13 s. Graphs are plain Python data and x stays on the CPU whatever `--device` says.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dlgrade.core.calls import Request
from dlgrade.engine.student import StudentModule
from dlgrade.kit import graphs
from dlgrade.kit.cases import Case, label, randn, seed_for
from dlgrade.kit.checks import check, expect_close, expect_layout, expect_sequence

F64 = torch.float64
LARGE = (3000, 6000)  # inputs, nodes


def lesson() -> list[Case]:
    """The lesson's examples, with directions along each input and along (1, 1)."""
    out = []
    for (graph, x, f, g), words in (
        (graphs.LESSON_XY, "x**2 + x*y + y**2"),
        (graphs.LESSON_POLY, "x**2 + 2x + 1"),
    ):
        xt = torch.tensor(x, dtype=F64)
        out.append(Case(f"the lesson's f = {words} at x = {x} (f = {f:g}, gradient {g})", (graph, xt)))
    return out


def directions(cases: list[Case]) -> list[Case]:
    """Each case once per direction (jvp's third argument): the first unit vectors, all-ones
    and real numbers of either sign drawn from the case's words (v is not a mask)."""
    out = []
    for c in cases:
        graph, x = c.args
        n = x.numel()
        gen = torch.Generator().manual_seed(seed_for("autodiff", "direction", c.label))
        real = (torch.rand(n, generator=gen, dtype=F64) * 4 - 2).round(decimals=3)
        units = [torch.eye(n, dtype=F64)[k] for k in range(min(n, 2))]
        vs = [*units, torch.ones_like(x), real]
        out += [Case(f"{c.label}, v = {tuple(v.tolist())}", (graph, x, v)) for v in vs]
    return out


def one_op() -> list[Case]:
    """Each operation on its own, with inputs in its domain; mul also with the same node twice."""
    x = torch.tensor([0.7, -1.3], dtype=F64)
    ins = [("input", 0), ("input", 1)]
    nodes = {
        **{op: (op, 0, 1) for op in ("add", "sub", "mul", "div")},
        **{op: (op, 0) for op in ("neg", "exp", "log", "sin", "tanh", "relu")},
        "pow": ("pow", 0, 3),
    }
    out = [
        Case(f"one {op} node {node} over x = (0.7, -1.3)", ([*ins, node], x)) for op, node in nodes.items()
    ]
    out.append(Case("a node used twice, ('mul', 1, 1), over x = (0.7, -1.3)", ([*ins, ("mul", 1, 1)], x)))
    out.append(Case("relu of a negative input, ('relu', 1), over x = (0.7, -1.3)", ([*ins, ("relu", 1)], x)))
    out.append(Case("a square root, ('pow', 0, 0.5), over x = (0.7, -1.3)", ([*ins, ("pow", 0, 0.5)], x)))
    at_zero = [*ins, ("const", 0.7), ("sub", 0, 2), ("relu", 3), ("add", 4, 1)]
    out.append(
        Case(f"relu at exactly 0 (derivative 0, as torch): {at_zero} over x = (0.7, -1.3)", (at_zero, x))
    )
    return out


def layouts() -> list[Case]:
    """Graphs whose input nodes are not the first n in order: late, out of order, repeated
    (each ("input", k) is x[k]; all of them count toward k's derivative), unused, and an input
    node as the output (f = x[k]: gradient the unit vector e_k)."""
    x2 = torch.tensor([0.7, -1.3], dtype=F64)
    x3 = torch.tensor([0.7, -1.3, 2.1], dtype=F64)
    graphs_ = (
        ("inputs late and out of order", [("const", 2.0), ("input", 1), ("input", 0), ("mul", 0, 2),
                                          ("add", 3, 1), ("mul", 4, 2)], x2),
        ("('input', 0) twice", [("input", 0), ("input", 1), ("input", 0), ("mul", 0, 1), ("mul", 3, 2)], x2),
        ("x[2] unused, x[0] twice", [("input", 1), ("input", 0), ("sin", 1), ("input", 0),
                                     ("mul", 2, 3), ("add", 4, 0)], x3),
        ("the output is an input node, f = x[0]", [("input", 1), ("input", 0), ("mul", 0, 1),
                                                   ("input", 0)], x2),
    )  # fmt: skip
    out = [Case(f"{words}: {graph} over x = {tuple(x.tolist())}", (graph, x)) for words, graph, x in graphs_]
    return out + random_graphs("layout", [(4, 30), (7, 50)])


def random_graphs(what: str, sizes: list[tuple[int, int]]) -> list[Case]:
    out = []
    for i, (n_in, n_nodes) in enumerate(sizes):
        seed = seed_for("autodiff", what, i, n_in, n_nodes)
        graph, x = graphs.random_graph(seed, n_in, n_nodes)
        out.append(Case(f"{what}: a graph of {len(graph)} nodes over {n_in} inputs", (graph, x)))
    return out


def agree(student: StudentModule, fn: str, cases: list[Case], expected: Callable, **tol: float) -> None:
    """The student's (y, dy) or (y, g) equal torch's on every case: 0-d y, float64 throughout."""
    names = ("y", "dy") if fn == "jvp" else ("y", "g")
    for case, call in zip(cases, student.calls(fn, [Request(c.args) for c in cases]), strict=False):
        want = expected(*case.args)
        got = expect_sequence(call.value, 2, case=case.label, what=f"the result ({', '.join(names)})")
        for name, g, e in zip(names, got, want, strict=True):
            expect_close(g, e, case=case.label, what=name, **tol)


SMALL = [(2, 12), (3, 25), (4, 40), (6, 60), (5, 80)]


# --- forward mode ---------------------------------------------------------------------------


@check(
    "jvp",
    "the lesson's examples",
    points=2,
    hint="z = x**2 + xy + y**2 at (2, 3) is 19 with gradient (7, 8): dz = 7 v0 + 8 v1",
)
def test_jvp_lesson(student, reference, device):
    agree(student, "jvp", directions(lesson()), graphs.torch_jvp)


@check(
    "jvp",
    "each operation's derivative rule",
    points=2,
    hint="the tangent of a * b is a' b + a b' (both terms: the product rule); of a / b (a' b - a b') / b**2",
)
def test_jvp_ops(student, reference, device):
    agree(student, "jvp", directions(one_op()), graphs.torch_jvp)


@check(
    "jvp",
    "graphs of any layout: inputs anywhere, repeated or unused",
    points=2,
    hint="node ('input', k) carries (x[k], v[k]) wherever it stands: k is not the node's position",
)
def test_jvp_layouts(student, reference, device):
    agree(student, "jvp", directions(layouts()), graphs.torch_jvp)


@check(
    "jvp",
    "agrees with torch on random graphs",
    points=2,
    hint="one (value, tangent) pair per node, in graph order",
)
def test_jvp_random(student, reference, device):
    agree(student, "jvp", directions(random_graphs("random", SMALL)), graphs.torch_jvp)


@check("jvp", "agrees on larger random graphs", points=1, hidden=True)
def test_jvp_hidden(student, reference, device):
    cases = directions(random_graphs("hidden", [(8, 300), (20, 1500)]))
    agree(student, "jvp", cases, graphs.torch_jvp, rtol=1e-6)


# --- reverse mode ---------------------------------------------------------------------------


@check(
    "grad",
    "the lesson's examples",
    points=2,
    hint="z = x**2 + xy + y**2 at (2, 3) is 19 with gradient (2x + y, x + 2y) = (7, 8)",
)
def test_grad_lesson(student, reference, device):
    agree(student, "grad", lesson(), graphs.torch_grad)


@check(
    "grad",
    "each operation's derivative rule, and a node used twice",
    points=2,
    hint="add adjoint * local derivative into each operand's adjoint (+=, never =): a node used twice "
    "collects both contributions",
)
def test_grad_ops(student, reference, device):
    agree(student, "grad", one_op(), graphs.torch_grad)


@check(
    "grad",
    "graphs of any layout: inputs anywhere, repeated or unused",
    points=2,
    hint="g[k] += the adjoint of every node ('input', k), wherever it stands and however often it appears",
)
def test_grad_layouts(student, reference, device):
    agree(student, "grad", layouts(), graphs.torch_grad)


@check(
    "grad",
    "agrees with torch.autograd on random graphs",
    points=2,
    hint="walk the nodes from the last to the first once; an input f does not use gets gradient 0",
)
def test_grad_random(student, reference, device):
    agree(student, "grad", random_graphs("random", SMALL), graphs.torch_grad)


@check(
    "grad",
    "a large graph (6,000 nodes, 3,000 inputs) within the time limit",
    points=2,
    hint="one forward sweep storing the values and one backward sweep of adjoints: not one sweep per input",
)
def test_grad_large(student, reference, device):
    n_in, n_nodes = LARGE
    agree(student, "grad", random_graphs("large", [(n_in, n_nodes)]), graphs.torch_grad, rtol=1e-6)


@check("grad", "agrees on larger random graphs", points=1, hidden=True)
def test_grad_hidden(student, reference, device):
    cases = random_graphs("hidden", [(8, 300), (20, 1500), (60, 3000)])
    agree(student, "grad", cases, graphs.torch_grad, rtol=1e-6)


# --- linear_l2_backward -------------------------------------------------------------------
# The expected side is torch autograd through y = x @ w + b, loss = sum(y**2), in float64;
# float32 cases are judged on that answer rounded to float32. D differs from M everywhere, so
# that a transposed dw has the wrong shape.

F32 = torch.float32
L2 = "linear_l2_backward"
L2_NAMES = ("loss", "dx", "dw", "db")


def l2_case(what: str, n: int, d: int, m: int, dtype: torch.dtype, device: str) -> Case:
    """x (n, d), w (d, m), b (m,) drawn from the case's words."""
    seed = seed_for(L2, what, n, d, m, dtype)
    x = randn((n, d), seed=seed, dtype=dtype, device=device)
    w = randn((d, m), seed=seed + 1, dtype=dtype, device=device)
    b = randn((m,), seed=seed + 2, dtype=dtype, device=device)
    return Case(label(x, what, D=d, M=m), (x, w, b), dims={"N": n, "D": d, "M": m})


def l2_autograd(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(loss, dx, dw, db) by torch autograd in float64, returned in x's dtype."""
    leaves = [t.detach().to(torch.float64).requires_grad_(True) for t in (x, w, b)]
    y = leaves[0] @ leaves[1] + leaves[2]
    loss = (y * y).sum()
    grads = torch.autograd.grad(loss, leaves)
    return tuple(t.detach().to(x.dtype) for t in (loss, *grads))


def l2_judge(
    student: StudentModule, cases: list[Case], items: tuple[int, ...], *, values: bool = True
) -> None:
    """The student's result is a tuple of four; the items `items` match autograd's (values, or
    only shape, dtype and device)."""
    for case, call in zip(cases, student.calls(L2, [Request(c.args, c.kwargs) for c in cases]), strict=False):
        got = expect_sequence(call.value, 4, case=case.label, what="the result (loss, dx, dw, db)")
        expected = l2_autograd(*case.args)
        for i in items:
            if values:
                expect_close(got[i], expected[i], case=case.label, what=L2_NAMES[i])
            else:
                expect_layout(got[i], expected[i], case=case.label, what=L2_NAMES[i])


L2_RANDOM = [(4, 3, 5, F64), (3, 6, 2, F64)]


@check(
    L2,
    "the loss: sum of y**2, a 0-d tensor",
    points=1,
    hint="y = x @ w + b, loss = (y * y).sum(): one number",
)
def test_l2_loss(student, reference, device):
    cases = [l2_case("random", n, d, m, dt, device) for n, d, m, dt in [*L2_RANDOM, (5, 2, 4, F32)]]
    l2_judge(student, cases, (0,))


def l2_random(device):
    """The random cases every gradient check of linear_l2_backward judges."""
    return [l2_case("random", n, d, m, dt, device) for n, d, m, dt in L2_RANDOM]


@check(
    L2,
    "dx equals autograd (float64)",
    points=1,
    hint="dL/dy = 2y, shape (N, M) (the 2 comes from the square); dx = dL/dy @ w.T, shape (N, D)",
)
def test_l2_dx(student, reference, device):
    l2_judge(student, l2_random(device), (1,))


@check(
    L2,
    "dw equals autograd (float64)",
    points=1,
    hint="dw = x.T @ dL/dy with dL/dy = 2y: shape (D, M) like w, not its transpose (M, D)",
)
def test_l2_dw(student, reference, device):
    l2_judge(student, l2_random(device), (2,))


@check(
    L2,
    "db equals autograd (float64)",
    points=1,
    hint="b is added to every row of x @ w, so db sums dL/dy = 2y over the batch: shape (M,)",
)
def test_l2_db(student, reference, device):
    l2_judge(student, l2_random(device), (3,))


@check(
    L2,
    "each gradient has the shape, dtype and device of its argument",
    points=1,
    hint="dx is shaped like x (N, D), dw like w (D, M), db like b (M,); float32 inputs give float32 results",
    hint_when=("shape", "dtype", "device", "type"),
)
def test_l2_shapes(student, reference, device):
    cases = [l2_case("shapes", n, d, m, dt, device) for n, d, m, dt in [(3, 4, 2, F64), (2, 3, 5, F32)]]
    l2_judge(student, cases, (1, 2, 3), values=False)


@check(
    L2,
    "a batch of one row (N = 1)",
    points=1,
    hint="with N = 1, db still has shape (M,): sum over the batch axis rather than squeezing",
)
def test_l2_single(student, reference, device):
    cases = [l2_case("one row", 1, d, m, dt, device) for d, m, dt in [(3, 4, F64), (4, 2, F32)]]
    l2_judge(student, cases, (0, 1, 2, 3))


@check(L2, "agrees on larger inputs", points=1, hidden=True)
def test_l2_hidden(student, reference, device):
    cases = [l2_case("large", 64, 20, 12, F64, device), l2_case("large", 32, 9, 17, F32, device)]
    l2_judge(student, cases, (0, 1, 2, 3))
