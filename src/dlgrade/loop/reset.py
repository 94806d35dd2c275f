"""`grade reset`: put one exercise's stub (or a whole module's) back, after backing up the student's file.

The pristine stubs are the bundle's `stubs/` folder, written by `grade release`. Only the
exercise's function is replaced (decorators to its last line); the rest of the student's
file stays as it is. Before anything changes, the student's file is copied to
`.dlgrade/backup/<module>-<timestamp>.py`.
"""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.spans import segment, span
from dlgrade.engine.bundle import is_bundle
from dlgrade.loop.state import state_dir

STUBS_DIR = "stubs"


class ResetError(ValueError):
    """The reset cannot be done as asked; the message is one line."""


@dataclass(frozen=True)
class Reset:
    path: Path  # the student's module, now with the stub back
    backup: Path | None  # the student's version before the reset (None: there was no file)


def stub_path(course: Course, module: str) -> Path:
    if not is_bundle(course.root):
        raise ResetError(
            "this is the course's source: exercises/ holds the stubs; reset works in a student bundle"
        )
    path = course.root / STUBS_DIR / f"{module}.py"
    if not path.is_file():
        raise ResetError(f"{STUBS_DIR}/{module}.py is missing from this bundle")
    return path


def reset_exercise(course: Course, exercise: Exercise) -> Reset:
    """Restore `exercise`'s function from the stub, leaving the rest of the module alone."""
    stub = stub_path(course, exercise.module).read_text(encoding="utf-8")
    target = course.exercises_dir() / f"{exercise.module}.py"
    if not target.is_file():
        return Reset(write_atomic(target, stub), None)
    mine = target.read_text(encoding="utf-8")
    try:
        tree = ast.parse(mine)
    except SyntaxError as exc:
        raise ResetError(
            f"{target.name} has a syntax error at line {exc.lineno}, so {exercise.id} cannot be found in it; "
            f"fix it, or restore the whole file with `grade reset {exercise.id} --all`"
        ) from None
    stub_fn = _function(ast.parse(stub), exercise.function)
    if stub_fn is None:
        raise ResetError(f"{STUBS_DIR}/{exercise.module}.py does not define {exercise.function}")
    new = segment(stub.split("\n"), stub_fn)
    lines = mine.split("\n")
    own = _function(tree, exercise.function)
    if own is None:
        text = mine.rstrip("\n") + "\n\n\n" + new + "\n"
    else:
        first, last = span(own)
        text = "\n".join([*lines[: first - 1], new, *lines[last:]])
    backup = _backup(course, target)
    return Reset(write_atomic(target, text), backup)


def reset_module(course: Course, module: str) -> Reset:
    """Restore the whole module from the stub."""
    stub = stub_path(course, module).read_text(encoding="utf-8")
    target = course.exercises_dir() / f"{module}.py"
    backup = _backup(course, target) if target.is_file() else None
    return Reset(write_atomic(target, stub), backup)


def _backup(course: Course, target: Path) -> Path:
    folder = state_dir(course) / "backup"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return write_atomic(folder / f"{target.stem}-{stamp}.py", target.read_bytes())


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = None
    for node in tree.body:  # the last definition is the one Python keeps
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found = node
    return found
