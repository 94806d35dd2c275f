"""Where a top-level statement stands in its source: its lines, decorators included."""

from __future__ import annotations

import ast


def span(node: ast.stmt) -> tuple[int, int]:
    """(first, last) line of `node`, 1-based, the first of its decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno or node.lineno


def segment(lines: list[str], node: ast.stmt) -> str:
    """The source text of `node` (with its decorators) out of the source's `lines`."""
    first, last = span(node)
    return "\n".join(lines[first - 1 : last])
