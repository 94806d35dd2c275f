"""Cut hidden checks, and every top-level helper only they use, out of a grader file's source.

The public checks and whatever they reach (functions, classes, constants, by name) stay,
with their own formatting and the comments inside them; comments between top-level
statements go, since one there may describe a hidden check. Imports and other statements
that define nothing by assignment stay as they are.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

HEADER = "# The public checks of this topic: `grade release` left the hidden ones out.\n"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class StripError(ValueError):
    """The grader cannot be split into public and hidden parts; the message is one line."""


def _names_used(nodes: Iterable[ast.AST]) -> set[str]:
    """Names read anywhere in `nodes`, and the parameters of functions (pytest fixtures)."""
    out: set[str] = set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                out.add(n.id)
            elif isinstance(n, ast.arg):
                out.add(n.arg)
    return out


def _defined(node: ast.stmt) -> set[str]:
    """Names a top-level statement defines that can be dropped when nothing public uses them."""
    if isinstance(node, _DEFS):
        names = {node.name}
    elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        if len(names) != len(targets):
            return set()  # unpacking or attributes: always kept
    else:
        return set()
    autouse = any("autouse" in ast.unparse(d) for d in getattr(node, "decorator_list", []))
    if autouse or any(n.startswith(("__", "pytest")) for n in names):
        return set()  # dunders, pytest hooks and autouse fixtures: always kept
    return names


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _methods(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    return [m for m in node.body if isinstance(m, _DEFS)]


def _hidden_methods(node: ast.ClassDef, hidden: set[str]) -> list[ast.stmt]:
    return [m for m in _methods(node) if f"{node.name}.{m.name}" in hidden]


def strip_hidden(source: str, hidden: set[str], public: set[str], *, filename: str = "<grader>") -> str:
    """`source` without the checks named in `hidden` ("test_x" or "CheckClass.test_x").

    `public` names the public checks: they, and what they use, are kept. Raises StripError
    when a hidden check is not found or public code uses one.
    """
    tree = ast.parse(source, filename=filename)
    body = tree.body
    found = {n.name for n in body if isinstance(n, _DEFS)}
    found |= {f"{n.name}.{m.name}" for n in body if isinstance(n, ast.ClassDef) for m in _methods(n)}
    missing = sorted((hidden | public) - found)
    if missing:
        raise StripError(f"{filename}: check {missing[0]!r} is not a top-level function or a method")
    removed = {i for i, n in enumerate(body) if isinstance(n, _DEFS) and n.name in hidden}
    owners: dict[str, int] = {}
    for i, node in enumerate(body):
        for name in _defined(node):
            owners[name] = i
    roots = [i for i, node in enumerate(body) if i not in removed and _is_root(node, public)]
    kept = _reachable(body, roots, owners, hidden, removed, filename)
    return _render(source, body, kept, hidden)


def _is_root(node: ast.stmt, public: set[str]) -> bool:
    """Kept whatever else is kept: public checks, their classes, statements that define nothing."""
    if isinstance(node, ast.ClassDef) and any(f"{node.name}.{m.name}" in public for m in _methods(node)):
        return True
    defined = _defined(node)
    return not defined or bool(defined & public)


def _reachable(
    body: list[ast.stmt],
    roots: list[int],
    owners: dict[str, int],
    hidden: set[str],
    removed: set[int],
    filename: str,
) -> set[int]:
    kept, todo = set(roots), list(roots)
    while todo:
        node = body[todo.pop()]
        parts: list[ast.AST] = [node]
        if isinstance(node, ast.ClassDef):
            gone = _hidden_methods(node, hidden)
            parts = [*node.decorator_list, *node.bases, *node.keywords]
            parts += [m for m in node.body if m not in gone]
        for name in _names_used(parts):
            i = owners.get(name)
            if i in removed:
                raise StripError(f"{filename}: public code uses the hidden check {name!r}")
            if i is not None and i not in kept:
                kept.add(i)
                todo.append(i)
    return kept


def _kind(node: ast.stmt, index: int) -> str:
    if isinstance(node, _DEFS):
        return "def"
    docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    return "doc" if index == 0 and docstring else "stmt"


def _render(source: str, body: list[ast.stmt], kept: set[int], hidden: set[str]) -> str:
    lines = source.splitlines()
    out, last_end, prev_kind, prev_end = HEADER, 0, "", 0
    for i, node in enumerate(body):
        start, end = _first_line(node), node.end_lineno or node.lineno
        if start <= last_end:
            raise StripError(f"line {start}: two top-level statements share a line")
        last_end = end
        if i not in kept:
            continue
        cut: set[int] = set()
        if isinstance(node, ast.ClassDef):
            for m in _hidden_methods(node, hidden):
                cut |= set(range(_first_line(m), (m.end_lineno or m.lineno) + 1))
        kind = _kind(node, i)
        if prev_kind:
            # Blank lines as in the source (comments between statements dropped), at least
            # two around a definition and one after the module docstring.
            blank = sum(not line.strip() for line in lines[prev_end : start - 1])
            wanted = 2 if "def" in (kind, prev_kind) else 1 if prev_kind == "doc" else 0
            out += "\n" * (1 + max(wanted, min(2, blank)))
        out += "\n".join(line for n, line in enumerate(lines[start - 1 : end], start) if n not in cut)
        prev_kind, prev_end = kind, end
    out += "\n"
    ast.parse(out)  # still Python (a class left without methods would not be)
    return out
