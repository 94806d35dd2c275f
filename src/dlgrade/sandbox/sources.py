"""The submission's modules in a worker: read into memory before the worker is confined (regular
files only, never through a link), imported from there, and the imports a submission's own
code may not make."""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import stat
import sys
from typing import Any

from dlgrade.sandbox import audit, guards

MAX_MODULES = 64  # .py files of a submission folder a worker reads
MAX_SOURCE_BYTES = 1 << 20
# Imports a submission may not make itself, even of modules torch has already loaded.
STUDENT_DENIED_IMPORTS = audit.DENIED_IMPORTS | {"importlib", "gc", "builtins", "inspect"}


def read_sources(folder: str) -> dict[str, tuple[str, bytes]]:
    """module name -> (path, source) of the folder's modules, read before confinement: regular
    files only, never through a link (a link could point at the course's answers)."""
    folder = os.path.realpath(folder)
    out: dict[str, tuple[str, bytes]] = {}
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
    except OSError:
        return out
    for name in names[:MAX_MODULES]:
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_SOURCE_BYTES:
                out[name[:-3]] = (path, f.read(MAX_SOURCE_BYTES + 1))
    return out


class SubmissionModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the submission's modules from the sources read before confinement."""

    def __init__(self, sources: dict[str, tuple[str, bytes]]) -> None:
        self.sources = sources

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or fullname not in self.sources:
            return None
        spec = importlib.util.spec_from_loader(fullname, self, origin=self.sources[fullname][0])
        if spec is not None:
            spec.has_location = True
        return spec

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        path, source = self.sources[module.__name__]
        module.__file__ = path
        exec(compile(source, path, "exec", dont_inherit=True), module.__dict__)


def under_prefix(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(p)) for p in {sys.prefix, sys.base_prefix})


def guarded_import(real_import: Any, state: guards.GuardState) -> Any:
    def guarded_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        if level == 0 and isinstance(globals, dict):
            here = globals.get("__file__")
            top = str(name).partition(".")[0]
            if (
                top in STUDENT_DENIED_IMPORTS
                and isinstance(here, str)
                and os.path.realpath(here) in state.student_files
            ):
                detail = f"imports {top}, which graded code may not use"
                if state.report is not None:
                    state.report(
                        {
                            "rule": "sandbox",
                            "what": "import",
                            "call": top,
                            "why": "graded code runs in a sandbox",
                            "where": "",
                            "detail": detail,
                        }
                    )
                raise ImportError(detail)
        return real_import(name, globals, locals, fromlist, level)

    return guarded_import
