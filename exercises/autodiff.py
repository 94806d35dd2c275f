"""Topic `autodiff`: forward and reverse mode automatic differentiation on a computational graph.

A graph is plain data: a list of nodes in order; node i is a tuple whose first item names
the operation and whose other items are indices of earlier nodes, or numbers for "input",
"const" and "pow":
    ("input", k)   x[k]                 ("const", c)   the number c
    ("add", i, j)  a + b                ("sub", i, j)  a - b
    ("mul", i, j)  a * b                ("div", i, j)  a / b
    ("neg", i)     -a                   ("exp", i)     exp(a)
    ("log", i)     log(a)               ("sin", i)     sin(a)
    ("tanh", i)    tanh(a)              ("relu", i)    max(a, 0) (derivative 0 at a = 0)
    ("pow", i, p)  a ** p (p a number)
where a is node i's value and b node j's. The last node is the output f(x); x is a 1-d
float64 tensor holding the inputs. Input nodes may stand anywhere in the list and in any
order (("input", k) is x[k], whatever its position), the same ("input", k) may appear more
than once (each is x[k]; all of them count toward k's derivative), and some inputs may not
appear at all (derivative 0). The output may itself be an input node (f(x) = x[k]: its
gradient is 1 at k, 0 elsewhere). relu at exactly 0 has derivative 0, as in torch.
Example (the lesson's): z = x**2 + x*y + y**2 is
    [("input", 0), ("input", 1), ("pow", 0, 2), ("mul", 0, 1), ("pow", 1, 2),
     ("add", 2, 3), ("add", 5, 4)]
and at x = (2, 3) gives z = 19 with gradient (7, 8).

Forward mode pushes a (value, tangent) pair through the graph once per direction v;
reverse mode stores the values, then pushes adjoints from the output back to every input
in one backward sweep: the whole gradient for the price of about two evaluations,
whatever the number of inputs. Plain Python floats (math.exp, ...) are fine and fast.
linear_l2_backward is the lesson's reverse-mode example with matrix parameters: the same
chain rule, one vector-Jacobian product per step, with tensors in place of numbers.
Not allowed: autograd (.backward(), torch.autograd.*, torch.func.*, forward-mode AD).
Leave the inputs unchanged (no in-place operations on x, v, w or b).
Run `grade autodiff` to check your work.
"""

import torch

Graph = list[tuple]


def jvp(graph: Graph, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward mode: (f(x), the directional derivative grad f(x) . v) in one forward sweep.

    Math: every node carries (value, tangent): inputs (x[k], v[k]), constants (c, 0); then
    (a b)' = a' b + a b' (product rule), (a / b)' = (a' b - a b') / b**2, exp(a)' = exp(a) a',
    log(a)' = a' / a, sin(a)' = cos(a) a', tanh(a)' = (1 - tanh(a)**2) a',
    relu(a)' = a' where a > 0 else 0, (a**p)' = p a**(p - 1) a'.
    Shapes: x (n,) float64, v (n,) float64 (any real numbers, not only 0 and 1) -> y and dy,
    both 0-d float64 tensors.
    Example: f(x) = x**2 + 2x + 1 at x = 3 with v = 1 gives (16, 8).
    """
    # TODO: one sweep over the nodes with a (value, tangent) pair per node.
    raise NotImplementedError


def grad(graph: Graph, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reverse mode: (f(x), the gradient of f at x) from one forward and one backward sweep.

    Math: forward: store every node's value. Backward: adjoint[last] = 1, then for each node
    from the last to the first, add adjoint[node] * (d node / d operand) to each operand's
    adjoint (a node used twice collects both contributions); g[k] sums the adjoints of the
    nodes ("input", k).
    Shapes: x (n,) float64 -> y 0-d float64, g (n,) float64 (0 for inputs f does not use).
    Graded on graphs of thousands of nodes and thousands of inputs as well, within a time
    limit of 4 s per call (`grade list`), which one reverse sweep meets easily; one sweep per
    input (calling jvp n times) does not fit the time limit there.
    """
    # TODO: one forward sweep storing values, one backward sweep accumulating adjoints.
    raise NotImplementedError


def linear_l2_backward(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The lesson's VJP example with matrix parameters: (loss, dx, dw, db), by hand.

    Forward: y = x @ w + b (b added to every row), loss = sum of y**2 over every entry.
    Backward, one vector-Jacobian product per step, from the loss down:
        dL/dy = 2 y                     (N, M): the 2 comes from the square
        dx = dL/dy @ w.T                (N, D)
        dw = x.T @ dL/dy                (D, M): the shape of w, not its transpose
        db = sum of dL/dy over the batch (M,): b reaches every row
    Each gradient has the shape, dtype and device of its argument, for any batch size N
    (N = 1 included: db is still (M,)).
    Shapes: x (N, D), w (D, M), b (M,), float32 or float64 -> loss 0-d, dx (N, D),
            dw (D, M), db (M,), all in the dtype of x. Judged against torch autograd
            (float64 inputs for each gradient), on larger inputs as well.
    Example: x = [[1., 2.]], w = [[1.], [1.]], b = [0.5] gives y = [[3.5]], loss = 12.25,
             dx = [[7., 7.]], dw = [[7.], [14.]], db = [7.].
    """
    # TODO: compute y and the loss, then dL/dy = 2y, then dx, dw and db from it.
    raise NotImplementedError
