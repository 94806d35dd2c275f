"""Where a grading run's expected answers come from: decided here, and only here.

In a course, the `reference` fixture calls the model solutions (trusted code, imported into the
grading process before any student code runs). In a student bundle (release.json at the root),
no model solutions ship: the fixture replays the answers `grade release` recorded, and the
hidden checks are listed as deferred. A release records answers through its own oracle.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from dlgrade.core.manifest import Course
from dlgrade.engine.answers import AnswerBook, ReplayOracle
from dlgrade.engine.bundle import HiddenCheck, load_bundle
from dlgrade.engine.oracle import Oracle


class ModuleLoader:
    """Imports the model solutions (trusted code) into the grading process, once each."""

    def __init__(self, folder: Path, prefix: str = "dlgrade_reference") -> None:
        self.folder = folder
        self.prefix = prefix
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            qualified = f"{self.prefix}.{name}"
            spec = importlib.util.spec_from_file_location(qualified, self.folder / f"{name}.py")
            if spec is None or spec.loader is None:
                raise FileNotFoundError(self.folder / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[qualified] = module
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]


@dataclass(frozen=True)
class AnswerSource:
    """The `reference` of each topic module, and the hidden checks a bundle defers."""

    oracle: Callable[[str], Oracle]
    deferred: tuple[HiddenCheck, ...] = ()
    loader: ModuleLoader | None = None  # the model solutions', when they are the answers

    def preload(self, modules: Iterable[str]) -> list[str]:
        """Import the model solutions now, before any student code runs (docs/sandbox.md);
        one message per module that failed (its checks fail too)."""
        if self.loader is None:
            return []
        problems = []
        for module in dict.fromkeys(modules):
            try:
                self.loader.module(module)
            except Exception as exc:
                problems.append(f"reference/{module}.py did not import: {exc!r}")
        return problems


def model_solutions(folder: Path) -> AnswerSource:
    """The `reference` of a topic module: the model solution in `folder`, imported once."""
    loader = ModuleLoader(folder)
    return AnswerSource(lambda module: Oracle(loader.module(module)), loader=loader)


def answer_source(course: Course) -> AnswerSource:
    """A bundle's recorded answers (hidden checks deferred), else the course's model solutions."""
    info = load_bundle(course.root)
    if info is None:
        return model_solutions(course.reference_dir())
    book = AnswerBook.load(course.root / info.answers)
    return AnswerSource(lambda module: ReplayOracle(book, module), info.hidden)
