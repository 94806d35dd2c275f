"""`grade dev check`: the manifest, exercises/, reference/ and graders/ agree with each other.

Static part: every declared file exists and nothing undeclared does (beside a model
solution, reference/<module>_torch.py may declare its counterparts); stub and model
solution define each exercise with the same signature; stubs are only a docstring, a
`# TODO` line and `raise NotImplementedError`. A stub module may also hold given code
(constants, helper functions students call): it must be the same in the model solution,
and nothing there may look like an undeclared stub. Grading part: the model solutions get
full marks, the stubs grade as `not_started`, and every exercise has a public check.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core import mistakes
from dlgrade.core.manifest import Course, ManifestError
from dlgrade.dev import readme as course_docs

# reference/<module>_torch.py: an independent version of each model solution (COUNTERPARTS),
# declared beside it; course staff's only, like the rest of reference/.
COUNTERPART_SUFFIX = "_torch"


class EditedStubs(ManifestError):
    """exercises/ holds filled-in stubs where a command builds something for students (one line)."""


def require_stubs(course: Course, building: str) -> None:
    """Refuse to build `building` (which ships exercises/ to students) from edited stubs."""
    edited = []
    for topic in course.topics:
        stub = _functions(course.exercises_dir() / f"{topic.module}.py") or {}
        edited += [e.id for e in topic.exercises if e.function in stub and not _only_raises(stub[e.function])]
    if edited:
        more = f" and {len(edited) - 3} more" if len(edited) > 3 else ""
        raise EditedStubs(
            f"exercises/ is not the stubs ({', '.join(edited[:3])}{more} filled in), and {building} "
            "ships it to students: restore it (`git checkout -- exercises/`); students work in "
            "the bundle that `grade release OUT_DIR` writes"
        )


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def static_problems(course: Course) -> list[Problem]:
    out: list[Problem] = []
    root = course.root
    for folder, expected in (
        ("exercises", {f"{m}.py" for m in course.modules}),
        ("reference", {f"{m}.py" for m in course.modules}),
        ("graders", {course.grader_path(t.id).name for t in course.topics}),
    ):
        present = {
            p.name for p in (root / folder).glob("*.py") if p.name not in ("__init__.py", "conftest.py")
        }
        out += [
            Problem(f"{folder}/{name}", "declared in course.toml but missing") for name in expected - present
        ]
        if folder == "reference":  # the model solutions' counterparts, pinned by the project's tests
            present -= {f"{m}{COUNTERPART_SUFFIX}.py" for m in course.modules}
        out += [Problem(f"{folder}/{name}", "not declared in course.toml") for name in present - expected]
    tiers = "needs at least two hint tiers: `hint` (a nudge), then `hints = [...]`"
    out += [Problem(f"course.toml::{e.id}", tiers) for e in course.exercises if len(set(e.hints)) < 2]
    for topic in course.topics:
        stub = _functions(course.exercises_dir() / f"{topic.module}.py")
        ref = _functions(course.reference_dir() / f"{topic.module}.py")
        if stub is None or ref is None:
            continue
        for e in topic.exercises:
            where = f"{topic.module}.py::{e.function}"
            if e.function not in stub:
                out.append(Problem(f"exercises/{where}", "not defined"))
            if e.function not in ref:
                out.append(Problem(f"reference/{where}", "not defined"))
            if e.function in stub and e.function in ref:
                if _signature(stub[e.function]) != _signature(ref[e.function]):
                    out.append(Problem(where, "stub and model solution signatures differ"))
                out += [
                    Problem(f"exercises/{where}", m)
                    for m in _stub_shape(stub[e.function], topic.module, root)
                ]
        out += _given_problems(course, topic.module, {e.function for e in topic.exercises})
    return out + _readme_problems(course) + _mistake_problems(course)


def _mistake_problems(course: Course) -> list[Problem]:
    """mistakes/<module>/*.py: header lines well formed (core.mistakes), about the course's exercises."""
    out = []
    ids = {e.id: e for e in course.exercises}
    for path in sorted(course.mistakes_dir().glob("*/*.py")):
        where = path.relative_to(course.root).as_posix()
        problems = mistakes.header_problems(path.read_text(encoding="utf-8"))
        out += [Problem(where, m) for m in problems]
        if problems:
            continue
        m = mistakes.parse(path)
        if m.module not in course.modules:
            out.append(Problem(where, f"{m.module!r} is not a module of the course"))
        out += [
            Problem(where, f"loses {x!r}: not an exercise of the course") for x in m.loses if x not in ids
        ]
        if m.name and not any(x in ids and ids[x].module == m.module for x in m.loses):
            out.append(Problem(where, f"named, but loses no exercise of {m.module}.py: never diagnosed"))
    return out


def _readme_problems(course: Course) -> list[Problem]:
    """README.md's topic table must be what course.toml gives (`grade dev readme` rewrites it)."""
    readme = course.root / "README.md"
    if not readme.is_file() or course_docs.BEGIN not in readme.read_text(encoding="utf-8"):
        return []
    if course_docs.readme_is_current(course, readme):
        return []
    return [Problem("README.md", "the topic table is out of date with course.toml: run grade dev readme")]


def _given_problems(course: Course, module: str, exercises: set[str]) -> list[Problem]:
    """Given code in a stub module (anything but imports and the exercises) must appear,
    identical, in the model solution; a function that only raises NotImplementedError there
    is a stub that course.toml does not declare."""
    stub = _given(course.exercises_dir() / f"{module}.py", exercises)
    ref = _given(course.reference_dir() / f"{module}.py", exercises)
    out = []
    for name, node in stub.items():
        where = f"exercises/{module}.py::{name}"
        if isinstance(node, ast.FunctionDef) and _only_raises(node):
            out.append(Problem(where, "raises NotImplementedError but is not declared in course.toml"))
        elif name not in ref:
            out.append(Problem(where, "given in the stub but missing from the model solution"))
        elif ast.dump(node) != ast.dump(ref[name]):
            out.append(Problem(where, "given in the stub but different in the model solution"))
    return out


def _given(path: Path, exercises: set[str]) -> dict[str, ast.stmt]:
    """Top-level functions, classes and assignments to plain names, except the exercises."""
    out: dict[str, ast.stmt] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        out.update({n: node for n in names if n not in exercises})
    return out


def _only_raises(fn: ast.FunctionDef) -> bool:
    body = fn.body[1:] if ast.get_docstring(fn) else fn.body
    return (
        len(body) == 1
        and isinstance(body[0], ast.Raise)
        and body[0].exc is not None
        and "NotImplementedError" in ast.unparse(body[0].exc)
    )


def _functions(path: Path) -> dict[str, ast.FunctionDef] | None:
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _signature(fn: ast.FunctionDef) -> str:
    return ast.dump(fn.args) + ast.dump(fn.returns) if fn.returns else ast.dump(fn.args)


def _stub_shape(fn: ast.FunctionDef, module: str, root: Path) -> list[str]:
    problems = []
    if not ast.get_docstring(fn):
        problems.append("the stub has no docstring (the math and the shapes)")
    if not _only_raises(fn):
        problems.append("the stub's body must be only `raise NotImplementedError`")
    lines = (root / "exercises" / f"{module}.py").read_text(encoding="utf-8").splitlines()
    source = lines[fn.lineno - 1 : fn.end_lineno]
    if not any(line.strip().startswith("# TODO") for line in source):
        problems.append("the stub has no `# TODO` line")
    if any(a.annotation is None for a in fn.args.args) or fn.returns is None:
        problems.append("the stub's signature needs type hints")
    return problems


def grading_problems(course: Course) -> list[Problem]:
    from dlgrade.engine.runner import grade

    out = []
    ref = grade(course, course.reference_dir(), label="reference")
    stubs = grade(course, course.exercises_dir(), label="exercises/")
    out += [Problem("graders", f"grader error: {e}") for e in ref.internal_errors + stubs.internal_errors]
    for e in ref.exercises:
        if e.status != "passed":
            failed = next((c for c in e.checks if not c.passed), None)
            detail = f" ({failed.name}: {failed.message})" if failed else f" ({e.message})"
            out.append(Problem(f"reference::{e.id}", f"does not get full marks: {e.status}{detail}"))
        if not any(c.visibility == "public" for c in e.checks):
            out.append(Problem(f"graders::{e.id}", "has no public check"))
    out += [
        Problem(f"exercises::{e.id}", f"the stub grades as {e.status}, not not_started")
        for e in stubs.exercises
        if e.status != "not_started"
    ]
    return out
