"""Static rule checks: find forbidden calls, imports and syntax in a student module's AST.

Names are resolved through the module's imports (`import torch.nn.functional as F` makes
`F.softmax` read as `torch.nn.functional.softmax`); an attribute on anything else (a local
tensor, say) reads as a `torch.Tensor` method. A violation inside a helper counts against
every exercise function that reaches the helper by name; one at module level, against all.
`analyse` applies them to a submission before any of its code runs.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core.calls import Forbidden, ImportFailed, StudentError
from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.rule_sets import Rules, pattern_set
from dlgrade.engine import routes, syntax_rules
from dlgrade.engine.names import Names, local_names, module_names, reachable, walk
from dlgrade.sandbox.audit import DENIED_IMPORTS

_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Violation:
    line: int
    rule: str
    detail: str
    why: str

    def describe(self, filename: str) -> str:
        return f"{filename}:{self.line}: {self.detail} ({self.why})"


@dataclass(frozen=True)
class ModuleScan:
    defined: frozenset[str]  # top-level functions and classes
    violations: dict[str, list[Violation]]  # per exercise function


def check_module(
    source: str, rules_by_function: dict[str, Rules], filename: str = "<student>", module: str | None = None
) -> ModuleScan:
    """Violations per exercise function. Raises SyntaxError if the source does not parse."""
    tree = ast.parse(source, filename=filename)
    annotate_parents(tree)
    names = module_names(tree, module or Path(filename).stem)
    top = names.top
    module_level: list[ast.AST] = [n for n in tree.body if n not in top.values()]
    out: dict[str, list[Violation]] = {}
    for fname, rules in rules_by_function.items():
        nodes = [top[n] for n in reachable(fname, names)] + module_level
        found: list[Violation] = []
        for node in nodes:
            found.extend(_scan(node, names, rules))
        if fname in top:
            found.extend(_count_calls(top[fname], names, rules))
        out[fname] = sorted(set(found), key=_first_told)
    return ModuleScan(defined=frozenset(top), violations=out)


def _matches(names: Iterable[str], patterns: dict[str, str]) -> tuple[str, str, str] | None:
    """The first pattern that a name or one of its dotted prefixes matches: a forbidden
    `torch.enable_grad` is forbidden in `torch.enable_grad.__enter__` too."""
    if not patterns:
        return None
    any_of = pattern_set(tuple(patterns))
    for full in names:
        parts = full.split(".")
        for name in (".".join(parts[:i]) for i in range(len(parts), 0, -1)):
            if not any_of.match(name):
                continue
            for pattern, why in patterns.items():
                if name == pattern or fnmatch.fnmatchcase(name, pattern):
                    return full, pattern, why
    return None


def _scan(root: ast.AST, names: Names, rules: Rules) -> list[Violation]:
    calls = rules.forbidden_calls()
    attrs = rules.forbidden_attributes()
    modules = {**{m: "graded code runs in a sandbox" for m in DENIED_IMPORTS}, **rules.forbidden_modules()}
    syntax = rules.syntax()
    local = local_names(root, names.top)

    def resolve(node: ast.AST) -> list[str]:
        return names.resolve(node, local)

    found: list[Violation] = []
    for node in walk(root):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            imported = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in imported:
                hit = _matches([name, name.partition(".")[0]], modules)
                if hit:
                    found.append(Violation(line, hit[1], f"imports {name}", hit[2]))
        if (
            isinstance(node, ast.Name | ast.Attribute | ast.Call)
            and not _is_inner_attribute(node)
            and not _bound(node)
        ):
            dotted = resolve(node)
            hit = _matches(dotted, calls) or _matches(dotted, attrs)
            if hit:
                found.append(Violation(line, hit[1], f"uses {_shown(hit[0])}", hit[2]))
            elif dotted and rules.has_allow_list():
                found.extend(Violation(*v) for v in routes.not_allowed(node, dotted, names, rules))
        if "loop" in syntax and isinstance(node, _LOOPS):
            kind = "loop" if isinstance(node, ast.For | ast.AsyncFor | ast.While) else "comprehension"
            found.append(Violation(line, "loop", f"has a Python {kind}", syntax["loop"]))
        if "matmul_operator" in syntax and (
            (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult))
            or (isinstance(node, ast.AugAssign) and isinstance(node.op, ast.MatMult))
        ):
            found.append(Violation(line, "matmul_operator", "uses the @ operator", syntax["matmul_operator"]))
    found.extend(_syntax_bans(root, resolve, syntax))
    if "hidden_routes" in syntax:  # names built at run time, raw memory, threads (engine/routes.py)
        found.extend(Violation(*v) for v in routes.everywhere(root, resolve))
    return found


def _syntax_bans(root: ast.AST, resolve: syntax_rules.Resolve, syntax: dict[str, str]) -> list[Violation]:
    """The bans that read more than one node (dlgrade/engine/syntax_rules.py)."""
    found: list[Violation] = []
    for ban, scan in (
        ("tensor_arithmetic", syntax_rules.tensor_arithmetic),
        ("names_in_strings", syntax_rules.names_in_strings),
    ):
        if ban in syntax:
            found.extend(
                Violation(line, rule, detail, syntax[ban]) for line, rule, detail in scan(root, resolve)
            )
    return found


def _is_inner_attribute(node: ast.AST) -> bool:
    """Only the outermost node of a chain is checked; `a.b.c` is one name, not three."""
    parent = getattr(node, "_dlgrade_parent", None)
    return isinstance(parent, ast.Attribute) and parent.value is node


def _first_told(v: Violation) -> tuple[bool, int, bool, str]:
    """A named ban before a name outside the allowed API (the more precise reason), then by line;
    on one line a library function before a Tensor method (the route, not its input)."""
    return routes.NOT_ALLOWED in v.detail, v.line, "torch.Tensor." in v.detail, v.detail


def _bound(node: ast.AST) -> bool:
    """A name being assigned (`sp = ...`) is not a use of what it stood for."""
    return isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)


def _shown(name: str) -> str:
    return name.removeprefix("builtins.").replace("?.", ".")


def _count_calls(fn: ast.AST, names: Names, rules: Rules) -> list[Violation]:
    counts = rules.call_counts()
    if not counts:
        return []
    local = local_names(fn, names.top)
    found = []
    for name, (_lo, hi, why) in counts.items():
        lines = [
            c.lineno for c in walk(fn) if isinstance(c, ast.Call) and name in names.resolve(c.func, local)
        ]
        if hi is not None and len(lines) > hi:
            found.append(Violation(lines[hi], name, f"calls {name} {len(lines)} times (at most {hi})", why))
    return found


def annotate_parents(tree: ast.AST) -> None:
    for parent in walk(tree):
        for child in ast.iter_child_nodes(parent):
            child._dlgrade_parent = parent  # type: ignore[attr-defined]


MAX_SOURCE_BYTES = 1 << 20


def analyse(course: Course, folder: Path, selected: Sequence[Exercise]) -> dict[str, StudentError]:
    """Static problems per exercise: a missing or unparsable module or function, a forbidden call."""
    blocked: dict[str, StudentError] = {}
    by_module: dict[str, list[Exercise]] = {}
    for e in selected:
        by_module.setdefault(e.module, []).append(e)
    for module, exercises in by_module.items():
        path = folder / f"{module}.py"
        try:
            source = _read_source(path)
            scan = check_module(source, {e.id: e.rules for e in exercises}, path.name, module)
        except ImportFailed as exc:
            blocked.update({e.id: exc for e in exercises})
            continue
        except SyntaxError as exc:
            problem = ImportFailed(f"{path.name} has a syntax error at line {exc.lineno}: {exc.msg}")
            blocked.update({e.id: problem for e in exercises})
            continue
        for e in exercises:
            found = scan.violations[e.id]
            if e.function not in scan.defined:
                blocked[e.id] = ImportFailed(f"{e.function} is not defined in {path.name}")
            elif found:
                first, n = found[0], len(found)
                more = f" (and {n - 1} more)" if n > 1 else ""
                blocked[e.id] = Forbidden(e.id, first.detail + more, f"{path.name}:{first.line}", first.why)
    return blocked


def _read_source(path: Path) -> str:
    if not path.is_file():
        raise ImportFailed(f"{path.name} is missing from the submission")
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ImportFailed(f"{path.name} is larger than {MAX_SOURCE_BYTES >> 10} KiB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportFailed(f"{path.name} is not UTF-8 text") from None
