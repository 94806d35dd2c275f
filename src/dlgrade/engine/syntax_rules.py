"""Syntax bans that read more than one node: tensor arithmetic beside einsum, names in strings."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from dlgrade.engine.names import walk
from dlgrade.sandbox.lookups import DENIED_NAMES, denied

Resolve = Callable[[ast.AST], list[str]]
Found = tuple[int, str, str]  # (line, syntax ban, detail)

# Functions of scalars that give a scalar (a number or a 0-d tensor): a scale may use them.
_SCALAR_CALLS = ("math.", "builtins.int", "builtins.float", "builtins.abs", "builtins.len",
                 "builtins.min", "builtins.max", "builtins.round", "torch.tensor", "torch.as_tensor",
                 "torch.sqrt", "torch.rsqrt", "numpy.sqrt")  # fmt: skip
_SHAPE_METHODS = frozenset({"size", "dim", "numel", "item", "ndimension"})
_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim"})
_OPERATORS = {ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
              ast.Add: "+", ast.Sub: "-"}  # fmt: skip
_WORDS = re.compile(
    r"(?<![A-Za-z0-9_])("
    + "|".join(
        re.escape(p[2:]) for p in DENIED_NAMES if p.startswith("*.") and "_" in p[2:] and "*" not in p[2:]
    )
    + r")(?![A-Za-z0-9_])"
)
_LOOKUPS = frozenset({"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr"})


def tensor_arithmetic(root: ast.AST, resolve: Resolve) -> Iterator[Found]:
    """Arithmetic (`*`, `/`, `+`, ...) whose operands are both tensors: only a scale, one
    side a number, a shape or a function of those, may stand beside an einsum."""
    scalars = _scalar_names(root, resolve)
    for node in walk(root):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right, op = node.left, node.right, node.op
        elif isinstance(node, ast.AugAssign) and type(node.op) in _OPERATORS:
            left, right, op = node.target, node.value, node.op
        else:
            continue
        if not (_scalar(left, resolve, scalars) or _scalar(right, resolve, scalars)):
            symbol = _OPERATORS[type(op)]
            yield node.lineno, "tensor_arithmetic", f"computes tensor {symbol} tensor outside einsum"


def _scalar_names(root: ast.AST, resolve: Resolve) -> set[str]:
    """Local names bound only ever to scalar expressions (`d = Q.shape[-1]`, `s = d ** -0.5`)."""
    bound: dict[str, list[ast.AST]] = {}
    for node in walk(root):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    bound.setdefault(t.id, []).append(node.value)
                else:  # unpacking, subscripts: whatever they bind is not known to be a scalar
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            bound.setdefault(n.id, []).append(t)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name):
            bound.setdefault(node.target.id, []).append(node.value or node.target)
        elif isinstance(node, ast.arg | ast.For | ast.comprehension | ast.withitem | ast.NamedExpr):
            target = node.optional_vars if isinstance(node, ast.withitem) else getattr(node, "target", node)
            for n in ast.walk(target) if target is not None else ():
                name = n.arg if isinstance(n, ast.arg) else getattr(n, "id", None)
                if isinstance(name, str):
                    bound.setdefault(name, []).append(n)
    scalars: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, values in bound.items():
            if name not in scalars and all(_scalar(v, resolve, scalars) for v in values):
                scalars.add(name)
                changed = True
    return scalars


def _scalar(node: ast.AST, resolve: Resolve, scalars: set[str]) -> bool:
    if isinstance(node, ast.Constant | ast.JoinedStr | ast.List | ast.Tuple | ast.Dict | ast.Set):
        return True  # a number, or no tensor at all ("__r" + "matmul__", [0] * n)
    if isinstance(node, ast.Name):
        return node.id in scalars or any(n.startswith("math.") for n in resolve(node))
    if isinstance(node, ast.Attribute):
        return node.attr in _SHAPE_ATTRIBUTES or any(n.startswith("math.") for n in resolve(node))
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Attribute) and node.value.attr in _SHAPE_ATTRIBUTES
    if isinstance(node, ast.UnaryOp):
        return _scalar(node.operand, resolve, scalars)
    if isinstance(node, ast.BinOp):
        return _scalar(node.left, resolve, scalars) and _scalar(node.right, resolve, scalars)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in _SHAPE_METHODS:
            return True
        names = [n for n in resolve(node.func) if not n.startswith("?.")]
        args = [*node.args, *(k.value for k in node.keywords if k.arg != "dtype")]
        return any(n.startswith(_SCALAR_CALLS) for n in names) and all(
            _scalar(a, resolve, scalars) for a in args
        )
    return False


def names_in_strings(root: ast.AST, resolve: Resolve) -> Iterator[Found]:
    """String constants that name what graded code may not reach: `getattr(f, "__globals__")`,
    `getattr(torch, "_C")`, `"{0.__globals__}".format(f)`."""
    for node in walk(root):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and not _unused(node):
            hit = _WORDS.search(node.value)
            if hit:
                yield node.lineno, "names_in_strings", f"names {hit.group(1)} in a string"
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and _LOOKUPS & set(resolve(node.func)):
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                owners = [n for n in resolve(node.args[0]) if not n.startswith("?.")] or ["?"]
                if any(denied(owner, name.value) for owner in owners[:1]):
                    yield node.lineno, "names_in_strings", f"looks up {name.value!r} by name"


def _unused(node: ast.AST) -> bool:
    """A string that is a statement of its own (a docstring, say) is never used."""
    return isinstance(getattr(node, "_dlgrade_parent", None), ast.Expr)
