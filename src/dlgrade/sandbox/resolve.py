"""What a dotted pattern from course.toml names: the callables a guard must wrap, and where.

`torch.nn.functional.softmax` names one function; `torch.linalg.*` every callable its module
defines (not the classes it merely imports). Runs in the zygote, before any student code.
"""

from __future__ import annotations

import builtins
import fnmatch
import importlib
import sys
from typing import Any


def resolve(pattern: str) -> list[tuple[Any, str, str]]:
    """(owner, attribute, dotted name) for each callable a dotted pattern names."""
    parts = pattern.split(".")
    head = [p for p in parts[:-1]]
    if any(ch in "".join(head) for ch in "*?["):
        return []
    owner: Any = None
    for i in range(len(head), 0, -1):
        try:
            owner = importlib.import_module(".".join(head[:i]))
        except ImportError:
            continue
        try:
            for p in head[i:]:
                owner = getattr(owner, p)
        except AttributeError:
            return []
        break
    if owner is None:
        owner = builtins if not head else None
    if owner is None:
        return []
    last = parts[-1]
    if any(ch in last for ch in "*?["):
        # A wildcard names what the module defines, not the classes it merely imports
        # (`torch.nn.init.*` must not guard torch.Tensor, which torch.nn.init imports).
        names = [n for n in dir(owner) if fnmatch.fnmatchcase(n, last) and not _imported_class(owner, n)]
    else:
        names = [last] if hasattr(owner, last) else []
    prefix = ".".join(head)
    return [
        (owner, n, f"{prefix}.{n}" if prefix else n)
        for n in names
        if callable(getattr(owner, n, None)) and not isinstance(getattr(owner, n), type(sys))
    ]


def _imported_class(owner: Any, name: str) -> bool:
    value = getattr(owner, name, None)
    home = getattr(owner, "__name__", None)
    return isinstance(value, type) and isinstance(home, str) and not str(value.__module__).startswith(home)
