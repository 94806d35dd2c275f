"""Routes the static rules refuse: names outside an exercise's allowed API, and, everywhere,
names built at run time, raw memory and threads.

A rule set with an allow-list (`allowed` in course.toml) admits only the library names it
lists: torch has thousands of callables and new ones in every release, so a list of what is
forbidden keeps losing. The three routes refused everywhere are the ones no rule could read
(a name built at run time), and the ones that leave the run-time guards behind (a thread runs
without them; raw memory can switch them off).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator

from dlgrade.core.rule_sets import Rules
from dlgrade.engine.names import LOOKUPS, Names, walk

Found = tuple[int, str, str, str]  # (line, rule, detail, why)
NOT_ALLOWED = "not among the functions this exercise allows"

DYNAMIC_WHY = "a name built at run time cannot be checked before the code runs: name it in the source"
RAW_WHY = "raw memory access reads and rewrites the grader's own state: graded code may not reach it"
STAR_WHY = "names from `import *` cannot be checked before the code runs: import them by name"
THREAD_WHY = "the run-time guards hold for the calling thread only: graded code may not start threads"
# Identifiers (attributes, definitions, keywords) that hand out a raw address.
RAW_IDENTIFIERS = frozenset(
    {"__array_interface__", "__array_struct__", "__cuda_array_interface__", "__dlpack__",
     "__dlpack_device__", "__buffer__", "__release_buffer__"}
)  # fmt: skip
# Parts of a dotted name that reach raw memory or make threads, whatever module re-exports them.
RAW_PARTS = frozenset(
    {"ctypes", "ctypeslib", "data_ptr", "untyped_storage", "storage", "_storage", "frombuffer",
     "from_dlpack", "memoryview", "stride_tricks", "mmap"}
)  # fmt: skip
THREAD_PARTS = frozenset(
    {"threading", "_thread", "Thread", "ThreadPool", "ThreadPoolExecutor", "start_new_thread",
     "start_new", "start_joinable_thread", "concurrent", "asyncio", "multiprocessing"}
)  # fmt: skip


def not_allowed(node: ast.AST, dotted: list[str], names: Names, rules: Rules) -> list[Found]:
    """A refusal when `node` names something an allow-list of `rules` leaves out."""
    if names.own(dotted) or (not dotted[0].startswith("?.") and _alias_or_lookup(node, names)):
        return []  # an alias is judged where it is used: every use resolves through it
    if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
        return []  # `torch.allclose = ...` replaces a name (the sandbox's concern), using nothing
    if dotted[0].startswith("?."):  # an attribute of something unknown: judged as a Tensor's
        if not _tensor_attribute(dotted[0][2:]):
            return []
        dotted = dotted[1:]
    for name in dotted:
        rs = rules.not_allowed(name)
        if rs is None:
            continue
        shown = name.removeprefix("builtins.")
        detail = f"uses {shown}, {NOT_ALLOWED} ({rs.allowed_words})"
        return [(getattr(node, "lineno", 0), rs.name, detail, rs.why)]
    return []


def _alias_or_lookup(node: ast.AST, names: Names) -> bool:
    """`F = torch.nn.functional` (an alias, engine/names.py) or the object of `getattr(torch, "exp")`."""
    parent = getattr(node, "_dlgrade_parent", None)
    if isinstance(parent, ast.Assign):
        return parent.value is node and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)
    if isinstance(parent, ast.Call) and parent.args and parent.args[0] is node:
        return "builtins.getattr" in names.resolve(parent.func)
    return False


@functools.cache
def _tensor_attribute(attr: str) -> bool:
    import torch

    return hasattr(torch.Tensor, attr)


def everywhere(root: ast.AST, resolve: Callable[[ast.AST], list[str]]) -> Iterator[Found]:
    """Names built at run time, raw memory and threads, in any exercise."""
    for node in walk(root):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            yield line, "hidden_routes", f"imports * from {node.module or '.'}", STAR_WHY
        for ident in _identifiers(node):
            if ident in RAW_IDENTIFIERS:
                yield line, "hidden_routes", f"reaches raw memory through {ident}", RAW_WHY
        if not isinstance(node, ast.Name | ast.Attribute) or _inner(node):
            continue
        dotted = resolve(node)
        parts = {p for n in dotted for p in n.split(".")}
        if raw := sorted(parts & RAW_PARTS):
            yield line, "hidden_routes", f"reaches raw memory through {_shown(dotted[0])} ({raw[0]})", RAW_WHY
        if thread := sorted(parts & THREAD_PARTS):
            yield (
                line,
                "hidden_routes",
                f"starts threads through {_shown(dotted[0])} ({thread[0]})",
                THREAD_WHY,
            )
        if LOOKUPS & set(dotted) and not _constant_lookup(node):
            verb = dotted[0].removeprefix("builtins.")
            yield (
                line,
                "hidden_routes",
                f"builds a name at run time ({verb} with a computed name)",
                DYNAMIC_WHY,
            )


def _shown(name: str) -> str:
    return name.removeprefix("builtins.").replace("?.", ".")


def _identifiers(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.arg | ast.keyword):
        yield node.arg or ""
    elif isinstance(node, ast.alias):
        yield from (node.name.rpartition(".")[2], node.asname or "")


def _inner(node: ast.AST) -> bool:
    parent = getattr(node, "_dlgrade_parent", None)
    return isinstance(parent, ast.Attribute) and parent.value is node


def _constant_lookup(node: ast.AST) -> bool:
    """`getattr(obj, "name")`: the function called at once, on a constant name."""
    call = getattr(node, "_dlgrade_parent", None)
    if not (isinstance(call, ast.Call) and call.func is node and len(call.args) >= 2):
        return False
    if any(isinstance(a, ast.Starred) for a in call.args) or call.keywords:
        return False
    name = call.args[1]
    return isinstance(name, ast.Constant) and isinstance(name.value, str)
