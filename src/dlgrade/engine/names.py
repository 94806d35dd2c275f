"""What a name in a student module stands for: imports, aliases, the module's own name, constant look-ups.

`import torch.nn.functional as F` makes `F.softmax` read as `torch.nn.functional.softmax`;
`sp = torch.sparse` (an assignment of a dotted name, at any scope) makes `sp.softmax` read as
`torch.sparse.softmax`; `getattr(torch, "exp")` reads as `torch.exp`; `import einsum_tasks`
inside einsum_tasks.py makes `einsum_tasks.helper` the module's own `helper`. An attribute on
anything else (a local tensor, say) reads as `?.attr` and as a `torch.Tensor` method.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

_BUILTINS = frozenset(dir(builtins))
MAX_DEPTH = 64  # alias chains (a = torch; b = a; ...) deeper than this resolve to UNRESOLVED
UNRESOLVED = "<an alias chain too deep to follow>"
LOOKUPS = frozenset({"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr"})


@dataclass
class Names:
    """The names of one module: what its aliases stand for, its own top-level definitions."""

    module: str
    top: dict[str, ast.AST]
    aliases: dict[str, list[str]] = field(default_factory=dict)
    pending: dict[str, list[ast.AST]] = field(default_factory=dict)  # assigned, not yet resolved
    depth: int = 0

    def resolve(self, node: ast.AST, local: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Dotted names a Name/Attribute chain (or a constant getattr) may stand for."""
        if isinstance(node, ast.Name):
            if node.id in self.pending:
                self._settle(node.id)
            if node.id in self.aliases:
                return list(self.aliases[node.id])
            if node.id in _BUILTINS and node.id not in local:
                return [f"builtins.{node.id}"]
            return []
        if isinstance(node, ast.Attribute):
            return self._member(node.value, node.attr, local)
        name = constant_lookup(node, self, local)
        if name is not None:
            return self._member(name[0], name[1], local)
        return []

    def _settle(self, name: str) -> None:
        """Resolve the assignments of `name` once, on first use (a cycle resolves to nothing; a
        chain deeper than MAX_DEPTH to UNRESOLVED, which no allow-list admits)."""
        values = self.pending.pop(name)
        if self.depth >= MAX_DEPTH:
            _bind(self, name, [UNRESOLVED])
            return
        self.depth += 1
        try:
            for value in values:
                found = [n for n in self.resolve(value) if not n.startswith(("?.", "torch.Tensor."))]
                if found:
                    _bind(self, name, found)
        finally:
            self.depth -= 1

    def _member(self, base: ast.AST, attr: str, local: set[str] | frozenset[str]) -> list[str]:
        bases = self.resolve(base, local)
        if bases:
            return [f"{b}.{attr}" for b in bases]
        # Unknown base (a local tensor, say): "?.attr" first, so messages show ".attr".
        return [f"?.{attr}", f"torch.Tensor.{attr}"]

    def own(self, names: list[str]) -> list[str]:
        """The module's own top-level definitions among `names` (`einsum_tasks.helper`)."""
        prefix = f"{self.module}."
        return [
            n.removeprefix(prefix)
            for n in names
            if n.startswith(prefix) and n.removeprefix(prefix) in self.top
        ]


def constant_lookup(
    node: ast.AST, names: Names, local: set[str] | frozenset[str]
) -> tuple[ast.AST, str] | None:
    """`getattr(obj, "name")` (a constant name): (obj, name); None for anything else."""
    if not (isinstance(node, ast.Call) and len(node.args) >= 2 and not node.keywords):
        return None
    if "builtins.getattr" not in names.resolve(node.func, local):
        return None
    obj, name = node.args[0], node.args[1]
    if isinstance(name, ast.Constant) and isinstance(name.value, str) and not isinstance(obj, ast.Starred):
        return obj, name.value
    return None


def walk(root: ast.AST) -> list[ast.AST]:
    """`ast.walk(root)`'s nodes, in its order, listed once and remembered on `root`: the rules walk
    each top-level statement several times (every rule set that reaches it, every kind of scan).
    Only for the statements the scans start from, so what is kept stays linear in the source."""
    nodes: list[ast.AST] | None = getattr(root, "_dlgrade_walk", None)
    if nodes is None:
        nodes = list(ast.walk(root))
        root._dlgrade_walk = nodes  # type: ignore[attr-defined]
    return nodes


def module_names(tree: ast.Module, module: str) -> Names:
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    names = Names(module, {n.name: n for n in tree.body if isinstance(n, definitions)})
    for node in walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    _bind(names, a.asname, [a.name])
                else:
                    top = a.name.partition(".")[0]
                    _bind(names, top, [top])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    _bind(names, a.asname or a.name, [f"{node.module}.{a.name}"])
    # Assignments of a dotted name (`sp = torch.sparse`): resolved when the name is first used.
    for n in walk(tree):
        if (
            isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Name | ast.Attribute | ast.Call)
        ):
            names.pending.setdefault(n.targets[0].id, []).append(n.value)
    return names


def _bind(names: Names, name: str, targets: list[str]) -> None:
    known = names.aliases.setdefault(name, [])
    known.extend(t for t in targets if t not in known)


def local_names(tree: ast.AST, top: dict[str, ast.AST]) -> set[str]:
    found = set(top)
    for n in walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            found.add(n.id)
        elif isinstance(n, ast.arg):
            found.add(n.arg)
    return found


def reachable(start: str, names: Names) -> list[str]:
    """Top-level definitions reachable from `start` through names, the module's own name included."""
    seen: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in names.top:
            continue
        seen.append(name)
        for n in walk(names.top[name]):
            if isinstance(n, ast.Name) and n.id in names.top:
                todo.append(n.id)
            if isinstance(n, ast.Name | ast.Attribute):
                todo.extend(names.own(names.resolve(n)))
    return seen
