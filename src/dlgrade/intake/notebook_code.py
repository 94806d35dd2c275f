"""Turn a notebook's code cells into the exercise module that dlgrade grades.

A notebook is graded like a module made of the definitions its cells ran, in the order they
ran: imports, functions, classes and assignments. Everything else at the top level of a
cell (expressions such as prints and check calls, loops, `if`, magics) is left out, so a
scratch cell that tries a function out, or loops forever, never runs at import. Cells that
do not parse are left out whole (the kernel did not run them either). The notebook's own
`from dlgrade.notebook.cells import ...` line is left out: graded code may not import dlgrade.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dlgrade.core.spans import segment, span

KEPT = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
)
NOTEBOOK_API = "dlgrade.notebook.cells"


def module_source(cells: Iterable[str]) -> str:
    """The module text for these cells (Python source, magics already turned into Python)."""
    return located_source(("", cell) for cell in cells)[0]


def located_source(cells: Iterable[tuple[str, str]]) -> tuple[str, list[str]]:
    """The module text for these (place, cell) pairs, e.g. ("cell 4", source), and for each of
    its lines where it came from ("cell 4, line 3"; "" for the blank lines between cells)."""
    lines: list[str] = []
    places: list[str] = []
    for where, cell in cells:
        pieces = _definitions(cell)
        if pieces and lines:
            lines.append("")
            places.append("")
        for text, first, exact in pieces:
            for k, line in enumerate(text.split("\n")):
                lines.append(line)
                places.append(f"{where}, line {first + k if exact else first}")
    return ("\n".join(lines) + "\n" if lines else ""), places


def _definitions(cell: str) -> list[tuple[str, int, bool]]:
    """The cell's kept statements: (text, first line in the cell, whether its lines are the cell's)."""
    cell = cell.replace("\r\n", "\n").replace("\r", "\n")  # the line breaks ast counts
    try:
        tree = ast.parse(cell)
    except (SyntaxError, ValueError):
        return []
    lines = cell.split("\n")
    out = []
    for node in tree.body:
        if not isinstance(node, KEPT) or _is_notebook_api(node) or _uses_ipython(node):
            continue
        first, last = span(node)
        if any(span(o)[0] <= last and span(o)[1] >= first for o in tree.body if o is not node):
            out.append((ast.unparse(node), first, False))  # shares a line with another: `x = 1; f(x)`
        else:
            out.append((segment(lines, node), first, True))
    return out


def _is_notebook_api(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == NOTEBOOK_API


def _uses_ipython(node: ast.stmt) -> bool:
    """`x = !ls` and `x = %time f()` become get_ipython() calls, which exist only in a kernel."""
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return any(isinstance(n, ast.Name) and n.id == "get_ipython" for n in ast.walk(node))
    return False


def notebook_cells(path: Path) -> list[str]:
    """The code cells of a notebook file, in order, with IPython syntax turned into Python."""
    return code_cells(json.loads(path.read_text(encoding="utf-8")))


def located_cells(path: Path, label: str = "") -> list[tuple[str, str]]:
    """`notebook_cells`, each with its place: "cell N" (N counts every cell of the notebook,
    markdown too, from 1, as a reader counts them), after `label`."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    numbers = [n for n, c in enumerate(notebook.get("cells", []), 1) if c.get("cell_type") == "code"]
    return [(f"{label}cell {n}", cell) for n, cell in zip(numbers, code_cells(notebook), strict=True)]


def code_cells(notebook: Mapping[str, Any]) -> list[str]:
    """The code cells of a notebook (nbformat 4, as read from JSON), as `notebook_cells`."""
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(_python("".join(source) if isinstance(source, list) else str(source)))
    return cells


def _python(source: str) -> str:
    """What IPython runs for a cell (`%magic` and `!cmd` lines become calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # without IPython, no cell can hold magics that ran
        return source
    return TransformerManager().transform_cell(source)


MAX_NOTEBOOK_BYTES = 64 << 20  # outputs (plots) make notebooks large; their code is small


class NotebookError(ValueError):
    """A notebook file cannot be read as a notebook; the message is one line."""


def notebook_modules(
    notebooks: Iterable[Path], modules: dict[str, set[str]]
) -> tuple[dict[str, str], list[str]]:
    """The exercise modules the notebooks' code cells define: {module: source}, and where each
    line of that source came from (see `located_source`; the notebook's name leads each place
    when there are several notebooks).

    `modules` maps each module name to its exercise functions. The definitions of every
    notebook (in the order given) make one source, written as each module whose exercise
    functions it defines at least one of; a module it defines none of is left out (missing).
    """
    cells: list[tuple[str, str]] = []
    notebooks = list(notebooks)
    for path in notebooks:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
        try:
            cells += located_cells(path, f"{path.name} " if len(notebooks) > 1 else "")
        except (UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
            raise NotebookError(f"{path.name} is not a Jupyter notebook ({type(exc).__name__})") from None
    source, places = located_source(cells)
    return notebook_modules_from_source(source, modules), places


def notebook_modules_from_source(source: str, modules: dict[str, set[str]]) -> dict[str, str]:
    """{module: source} for each module with an exercise function that `source` defines."""
    try:
        defined = {
            n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
    except SyntaxError:  # cells that parse alone but clash together: every module gets them as they are
        defined = {f for functions in modules.values() for f in functions}
    return {module: source for module, functions in modules.items() if functions & defined}
