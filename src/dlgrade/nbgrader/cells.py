"""The code of an nbgrader source notebook, cut from a topic's stub module and model solutions.

- The setup cell is the stub module without its docstring and exercise functions: imports,
  given constants and given helpers.
- An exercise's solution cell is the stub function (signature, docstring, `# TODO` line)
  with the model solution's body between `### BEGIN SOLUTION` and `### END SOLUTION`;
  nbgrader's release turns that region back into `raise NotImplementedError()`. What the
  model solution takes from its own module and the stub module lacks (helpers, imports,
  constants) goes inside the region too, so the release shows none of it.
- A check cell imports and calls `grade_cell` (imported there, so that a student's function
  of that name cannot stand in for it); `hidden_checks=True` sits between
  `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`, so the hidden source reveals no input.
"""

from __future__ import annotations

import ast

from dlgrade.core.result import points_text
from dlgrade.core.spans import segment, span

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SourceError(ValueError):
    """A stub or model solution does not have the shape a notebook needs; one line."""


def setup_source(stub: str, functions: set[str]) -> str:
    """The stub module's top-level code other than its docstring and the exercise functions."""
    tree = ast.parse(stub)
    lines = stub.split("\n")
    kept = [
        segment(lines, node)
        for node in tree.body
        if not (isinstance(node, _DEFS) and node.name in functions) and not _is_docstring(node)
    ]
    return "\n\n".join(kept)


def solution_source(stub: str, reference: str, function: str) -> str:
    """The solution cell for `function`: the stub's head and the model solution's body."""
    stub_tree, ref_tree = ast.parse(stub), ast.parse(reference)
    stub_fn, ref_fn = _function(stub_tree, function, "stub"), _function(ref_tree, function, "model solution")
    stub_lines, ref_lines = stub.split("\n"), reference.split("\n")
    last = stub_fn.body[-1]
    if not isinstance(last, ast.Raise):
        raise SourceError(f"the stub of {function} does not end with `raise NotImplementedError`")
    first, _ = span(stub_fn)
    head = stub_lines[first - 1 : last.lineno - 1]
    indent = " " * last.col_offset
    needed = [segment(ref_lines, node) for node in _needed(ref_tree, stub_tree, ref_fn)]
    region = [*(line for block in needed for line in block.split("\n")), *_body(ref_lines, ref_fn)]
    body = [indent + line if line.strip() else "" for line in region]
    return "\n".join([*head, indent + BEGIN_SOLUTION, *body, indent + END_SOLUTION])


def check_source(exercise: str, points: float) -> str:
    """The check cell: public checks for the student; every check when nbgrader grades."""
    return "\n".join(
        [
            f"# Checks for `{exercise}` ({points_text(points)} points): run this cell after the one above.",
            "from dlgrade.notebook.cells import grade_cell",
            "",
            "grade_cell(",
            f'    "{exercise}",',
            "    ### BEGIN HIDDEN TESTS",
            "    hidden_checks=True,",
            "    ### END HIDDEN TESTS",
            ")",
        ]
    )


def docstring(source: str) -> str:
    return ast.get_docstring(ast.parse(source)) or ""


def _function(tree: ast.Module, name: str, what: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise SourceError(f"the {what} module does not define {name}")


def _body(lines: list[str], fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The function's body without its docstring (comments kept), dedented to column 0."""
    has_doc = _is_docstring(fn.body[0]) and len(fn.body) > 1
    statements = fn.body[1:] if has_doc else fn.body
    start = (fn.body[0].end_lineno or 0) + 1 if has_doc else statements[0].lineno
    cut = statements[0].col_offset
    block = lines[start - 1 : fn.end_lineno]
    while block and not block[0].strip():
        block.pop(0)
    return [line[cut:] if not line[:cut].strip() else line for line in block]


def _needed(ref: ast.Module, stub: ast.Module, fn: ast.AST) -> list[ast.stmt]:
    """Top-level statements of the model solution that `fn` reaches and the stub lacks."""
    provided = _bound(stub.body)
    bindings = {name: node for node in ref.body for name in _bound([node])}
    wanted: set[int] = set()
    todo = [fn]
    while todo:
        for name in _names(todo.pop()) - provided:
            node = bindings.get(name)
            if node is not None and node is not fn and id(node) not in wanted:
                wanted.add(id(node))
                todo.append(node)
    return [node for node in ref.body if id(node) in wanted]


def _bound(body: list[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for node in body:
        if isinstance(node, _DEFS):
            out.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            out.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return out


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )
