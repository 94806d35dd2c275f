"""The engine's rooms: packages on floors, imports that point down, no cycle, small modules.

Every module of src/dlgrade lives in one package of LAYERS (the root keeps only the version,
the IPython entry point and `python -m dlgrade`). A module imports from its own package or from
a lower floor, never up; packages on one floor may use each other only where that makes no cycle.
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support import ROOT

SRC = ROOT / "src" / "dlgrade"
MAX_LINES = 300

# Lowest floor first. CONTRIBUTING.md ("How the pieces fit") describes each room.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # course model, results, calls, plain data, atomic files: imports no other room
    ("sandbox",),  # zygote, workers, kernel containment, guards
    ("intake",),  # untrusted input: submission folders, archives, notebooks
    ("engine",),  # grade one submission: runner, plugin, session, student proxy, answers, rules
    ("kit",),  # what graders import: checks, cases, patterns, backprop, memo
    ("report", "plots"),  # reporters of one result; --plots
    ("loop", "batch", "notebook", "nbgrader", "release", "dev"),  # the channels
    ("cli",),  # the `grade` command
)
FLOOR = {package: floor for floor, packages in enumerate(LAYERS) for package in packages}
# The root package may be imported from anywhere (its __version__); it imports the notebook
# magic lazily because IPython's `%load_ext dlgrade` looks for the entry point there.
ROOT_MODULES = {"dlgrade", "dlgrade.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The dlgrade modules `name` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and name not in ROOT_MODULES else None


def test_every_module_lives_in_a_room() -> None:
    homeless = sorted(n for n in MODULES if n not in ROOT_MODULES and room(n) not in FLOOR)
    assert not homeless, f"modules outside the rooms of LAYERS: {homeless}"


def test_imports_point_down_the_floors() -> None:
    up = []
    for name, targets in GRAPH.items():
        if name in ROOT_MODULES:
            continue
        for target in targets:
            if target in ROOT_MODULES:
                continue
            here, there = room(name), room(target)
            if here != there and FLOOR[there] > FLOOR[here]:  # type: ignore[index]
                up.append(f"{name} -> {target}")
    assert not up, "imports that point up the floors:\n" + "\n".join(sorted(up))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_between_modules() -> None:
    graph = {n: {t for t in ts if t not in ROOT_MODULES} for n, ts in GRAPH.items() if n not in ROOT_MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_rooms() -> None:
    rooms: dict[str, set[str]] = defaultdict(set)
    for name, targets in GRAPH.items():
        for target in targets:
            here, there = room(name), room(target)
            if here and there and here != there:
                rooms[here].add(there)
    cycle = find_cycle(dict(rooms))
    assert cycle is None, "rooms that import each other: " + " -> ".join(cycle or [])


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"


DOTTED = re.compile(r"(?<![\w./-])dlgrade(?:\.[A-Za-z_]\w*)+")
WRITTEN = [
    *ROOT.glob("graders/*.py"),
    *ROOT.glob("docs/*.md"),
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *ROOT.glob("templates/**/*"),
    *SRC.rglob("*.py"),
]


def resolves(path: str) -> bool:
    """`dlgrade.a.b.c`: a module, or an attribute of the longest module prefix."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(value, attr):
                return False
            value = getattr(value, attr)
        return True
    return False


def test_every_dotted_path_the_course_and_docs_name_resolves() -> None:
    """Graders, generated notebooks and docs name engine paths; a move must change them all."""
    stale = set()
    for file in WRITTEN:
        if not file.is_file():
            continue
        for path in DOTTED.findall(file.read_text(encoding="utf-8", errors="replace")):
            path = path.rstrip(".")
            if path.endswith((".py", ".md", ".toml", ".json", ".ini")):
                continue
            if not resolves(path):
                stale.add(f"{file.relative_to(ROOT)}: {path}")
    assert not stale, "paths that name nothing:\n" + "\n".join(sorted(stale))


CITED = re.compile(r"(?<![\w/])(?:tests/[\w/]+\.py|src/dlgrade/[\w/.]*\w)")


def test_every_file_the_course_docs_and_tests_cite_exists() -> None:
    """Test files and `src/dlgrade/` paths named in graders, docs, the engine and the tests."""
    cited = {
        f"{file.relative_to(ROOT)}: {path}"
        for file in [*WRITTEN, *ROOT.glob("tests/*.py")]
        if file.is_file()
        for path in CITED.findall(file.read_text(encoding="utf-8", errors="replace"))
        if not (ROOT / path).exists()
    }
    assert not cited, "cited files that do not exist:\n" + "\n".join(sorted(cited))
