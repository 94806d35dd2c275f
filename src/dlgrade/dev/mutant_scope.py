"""Which exercises can tell a mutant from the model solution: the only ones it is graded on.

A mutant changes one line of one model solution. Only an exercise that runs that line can
lose points on it, and an exercise's checks run student code in two ways only:

- the graders call the student's functions by name (`student.fn(...)`, `runs.call(student,
  "fn", ...)`): which names each exercise's checks call is *observed* by grading the model
  solutions once per topic (`observed_calls`);
- those functions call others of the module: found in the module's source (`dependents`:
  the function holding the line and every function that refers to it, transitively).

A mutant inside a top-level function (or class, or constant `NAME = ...`) `f` is graded on
every exercise whose checks call `f` or a function that refers to `f`, transitively; anything
else (an import, a statement, a unit the module refers to outside any function: an alias)
is graded on every exercise of its module, and so is a mutant no check reaches (an unused
constant): grading it on nothing would call it a survivor unseen.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator, Mapping, Sequence


def _units(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level functions, classes and constants (`NAME = ...` with one name) by name."""
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                out[targets[0].id] = node
    return out


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _refs(node: ast.stmt) -> set[str]:
    """The names a unit reads (a constant's own name, which it stores, is not one)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def enclosing(source: str, line: int) -> str | None:
    """The top-level function, class or constant holding `line`, or None for other
    module-level code (imports, statements)."""
    for name, node in _units(ast.parse(source)).items():
        if _first_line(node) <= line <= (node.end_lineno or node.lineno):
            return name
    return None


def dependents(source: str, name: str) -> set[str] | None:
    """`name` and every top-level unit that refers to it, directly or through others; None
    when other module-level code refers to one of them (an alias, a table of functions...):
    then anything in the module may reach it."""
    tree = ast.parse(source)
    units = _units(tree)
    refs = {unit: _refs(node) for unit, node in units.items()}
    kept = set(map(id, units.values()))
    loose = set().union(*(_refs(n) for n in tree.body if id(n) not in kept))
    found, todo = {name}, [name]
    while todo:
        target = todo.pop()
        for unit, names in refs.items():
            if target in names and unit not in found:
                found.add(unit)
                todo.append(unit)
    return None if found & loose else found


def scope(
    source: str,
    line: int,
    exercises: Sequence[str],
    observed: Mapping[str, frozenset[str]],
) -> list[str]:
    """The exercises (of `exercises`, one module's) a mutant of `line` is graded on, the one
    named after the mutated function first. `observed`: the functions each exercise's checks
    call; an exercise missing from it is always graded."""
    name = enclosing(source, line)
    reach = dependents(source, name) if name is not None else None
    if reach is None:
        return list(exercises)
    chosen = [e for e in exercises if e not in observed or observed[e] & reach]
    if not chosen:
        return list(exercises)
    return sorted(chosen, key=lambda e: e != name)


@contextlib.contextmanager
def recording_calls() -> Iterator[dict[str, set[str]]]:
    """While open, every call the graders make into a student's worker is noted: exercise id
    -> the function names its checks called (in this process only; a dev tool's probe)."""
    from dlgrade.engine.exercise_sandbox import ExerciseSandbox

    seen: dict[str, set[str]] = {}
    call, calls = ExerciseSandbox.call, ExerciseSandbox.calls

    def noted_call(self: ExerciseSandbox, fn: str, *args: object, **kwargs: object) -> object:
        seen.setdefault(self.exercise.id, set()).add(fn)
        return call(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    def noted_calls(self: ExerciseSandbox, fn: str, *args: object, **kwargs: object) -> object:
        seen.setdefault(self.exercise.id, set()).add(fn)
        return calls(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    ExerciseSandbox.call = noted_call  # type: ignore[assignment,method-assign]
    ExerciseSandbox.calls = noted_calls  # type: ignore[assignment,method-assign]
    try:
        yield seen
    finally:
        ExerciseSandbox.call, ExerciseSandbox.calls = call, calls  # type: ignore[method-assign]
