"""Costly lazy imports a submission is about to trigger, made once in the zygote before forking.

torch defers some imports to first use: the first torch.optim optimizer, torch.func or
torch.compile imports torch._dynamo, which costs about as much as importing torch itself, and
which a worker may not even do: it imports ctypes and creates a cache folder, both of which
the audit hook denies. So when a submission's module names one of those features, the zygote
imports it before forking that module's worker; this worker and every later one inherit it.
(Code that reaches them without naming them, e.g. through getattr, gets a sandbox error.)

The zygote serves many submissions and every worker inherits its memory, so it never reads a
submission: the grading process reads the module (`wanted`, it reads submissions anyway) and
sends only the names of the lazy imports, which the zygote checks against `LAZY_IMPORTS`
(`load`). What a later worker can learn from it is that torch._dynamo is loaded.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib
import os
import sys

# module to import -> identifiers whose presence in the submission's source triggers it
LAZY_IMPORTS: dict[str, frozenset[str]] = {
    "torch._dynamo": frozenset({"optim", "func", "compile", "_dynamo"}),
}
MAX_SOURCE_BYTES = 1 << 20
_REMEMBERED = 256  # sources whose lazy imports are remembered (digest -> names)
_NEEDED: dict[bytes, tuple[str, ...]] = {}


def identifiers(source: str) -> set[str]:
    """Every name, attribute and dotted import part in `source` (empty if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.alias):
            out.update(node.name.split("."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.update(node.module.split("."))
    return out


def needed(source: str) -> list[str]:
    """The lazy imports that `source` names a trigger of.

    Remembered by the source's digest: the exercises of one module each start a worker for
    the same source, which is parsed once (not once per exercise) while it stays unchanged."""
    key = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
    found = _NEEDED.get(key)
    if found is None:
        if len(_NEEDED) >= _REMEMBERED:
            _NEEDED.clear()
        names = identifiers(source)
        found = _NEEDED[key] = tuple(m for m, words in LAZY_IMPORTS.items() if names & words)
    return list(found)


def wanted(folder: str, module: str) -> list[str]:
    """The lazy imports the submission module `folder/module.py` names (in the grading process)."""
    try:
        with open(os.path.join(folder, f"{module}.py"), encoding="utf-8", errors="replace") as f:
            source = f.read(MAX_SOURCE_BYTES)
    except (OSError, TypeError, ValueError):
        return []
    return needed(source)


def load(names: object) -> None:
    """Import the `names` that are lazy imports of `LAZY_IMPORTS` (in the zygote, before a fork);
    anything else is ignored."""
    if not isinstance(names, list):
        return
    for name in names:
        if isinstance(name, str) and name in LAZY_IMPORTS and name not in sys.modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
