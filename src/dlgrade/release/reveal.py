"""After the due date, `grade release --reveal`: the hidden checks published as public ones.

Each hidden check's `hidden=True` (in its `@check(...)` or `@check_each(...)` decorator) is
rewritten to `hidden=False` in the bundle's copy of the grader, nothing else changed; a grader
that makes a check hidden any other way cannot be published and says so in one line.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime

HEADER = (
    "# Every check of this topic: `grade release --reveal` published the hidden ones after the due date.\n"
)


class RevealError(ValueError):
    """The hidden checks cannot be published; the message is one line."""


def _flag(decorator: ast.expr) -> ast.keyword | None:
    if isinstance(decorator, ast.Call):
        return next((k for k in decorator.keywords if k.arg == "hidden"), None)
    return None


def _targets(tree: ast.Module, hidden: set[str]) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function named in `hidden` ("test_x" or "Class.test_x"), top level or in a class."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in hidden:
            found.append((node.name, node))
        if isinstance(node, ast.ClassDef):
            for m in node.body:
                name = f"{node.name}.{getattr(m, 'name', '')}"
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and name in hidden:
                    found.append((name, m))
    return found


def publish_hidden(source: str, hidden: set[str], *, filename: str = "<grader>") -> str:
    """`source` with the checks named in `hidden` made public."""
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines(keepends=True)
    targets = _targets(tree, hidden)
    missing = sorted(hidden - {name for name, _ in targets})
    if missing:
        raise RevealError(f"{filename}: check {missing[0]!r} is not a function or a method")
    edits = []
    for name, node in targets:
        flags = [f for d in node.decorator_list if (f := _flag(d)) is not None]
        literal = [f for f in flags if isinstance(f.value, ast.Constant) and f.value.value is True]
        if len(literal) != 1 or literal[0].end_lineno != literal[0].lineno:
            raise RevealError(
                f"{filename}: {name} is not made hidden by one `hidden=True`; publish it by hand"
            )
        edits.append(literal[0])
    for flag in sorted(edits, key=lambda k: (k.lineno, k.col_offset), reverse=True):
        text = lines[flag.lineno - 1]
        start, end = _utf8_col(text, flag.col_offset), _utf8_col(text, flag.end_col_offset or 0)
        lines[flag.lineno - 1] = text[:start] + "hidden=False" + text[end:]
    out = HEADER + "".join(lines)
    ast.parse(out)
    return out


def _utf8_col(line: str, offset: int) -> int:
    """ast's column (a UTF-8 byte offset) as a character index into `line`."""
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))


def allow_publish(due: datetime | None, now: datetime | None = None, force: bool = False) -> None:
    """Refuse, in one line, to publish hidden checks before the due date (unless forced)."""
    if force:
        return
    if due is None:
        raise RevealError(
            "--reveal needs a due date (course.toml [deadline] or --due); --force-reveal publishes anyway"
        )
    if (now or datetime.now(UTC)) < due:
        raise RevealError(
            f"refusing to publish hidden checks before the due date ({due.isoformat()}); "
            "give the last extension's date with --due, or --force-reveal"
        )
