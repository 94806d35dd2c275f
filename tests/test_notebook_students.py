"""Students who work in notebooks: `%load_ext dlgrade` + `%grade` in a real IPython kernel, and
`grade --submission NOTEBOOK.ipynb` (alone or in a zip), each giving `grade`'s points."""

from __future__ import annotations

import ast
import json
import os
import queue
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from dlgrade.report.table import render_table
from tests.support import ROOT, grade_folder, scores, variant

NAIVE = variant("stability", "naive_softmax").path


def cells_of(course: Course, extra: str = "") -> list[str]:
    """A notebook's cells: imports, one cell per model solution of `stability`, scratch cells."""
    source = (course.reference_dir() / "stability.py").read_text()
    tree = ast.parse(source)
    imports = [ast.get_source_segment(source, n) or "" for n in tree.body if isinstance(n, ast.Import)]
    functions = [ast.get_source_segment(source, n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)]
    scratch = ["%timeit -n1 -r1 sum(range(3))", "print(logsumexp(torch.zeros(3)))"]
    return ["\n".join(imports), *functions, *scratch, *([extra] if extra else [])]


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def expected(course: Course, tmp_path: Path, extra: str = "") -> dict:
    folder = tmp_path / "expected"
    folder.mkdir()
    source = (course.reference_dir() / "stability.py").read_text()
    (folder / "stability.py").write_text(source + ("\n\n" + extra if extra else ""))
    return scores(grade_folder(course, folder, "stability"))


def cli(*args: str):
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(here)


def cli_scores(*args: str) -> dict:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return {
        e["id"]: (e["status"], e["score"], e["max_score"]) for e in json.loads(result.stdout)["exercises"]
    }


def test_a_notebook_submission_grades_like_its_code(course: Course, tmp_path: Path) -> None:
    wrong = NAIVE.read_text()
    path = write_notebook(tmp_path / "mine.ipynb", cells_of(course, wrong))
    want = expected(course, tmp_path, wrong)
    assert want["stable_softmax"][0] == "partial"
    assert cli_scores("--submission", str(path), "stability") == want
    archive = tmp_path / "handin.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "handin/mine.ipynb")
    assert cli_scores("--submission", str(archive), "stability") == want


def test_a_bad_notebook_is_a_one_line_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    result = cli("--submission", str(bad))
    assert result.exit_code == 2 and "bad.ipynb is not a Jupyter notebook" in result.stderr
    empty = write_notebook(tmp_path / "empty.ipynb", ["x = 1"])
    result = cli("--submission", str(empty))
    assert result.exit_code == 2 and "no exercise function in its notebook" in result.stderr


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[object]:
    """A real IPython kernel (ipykernel), started in the course as a student's would be."""
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}
    env.pop("DLGRADE_COURSE", None)
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT), env=env)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: Any, code: str, timeout: float = 120) -> tuple[str, str]:
    """Run one cell; (stdout, errors) as the notebook shows them (a UsageError goes to stderr)."""
    msg_id = client.execute(code)
    out, error = [], []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply to {code!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "stream":
            error.append(content["text"])
        elif kind == "error":
            error.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out), "".join(error)


def test_grade_magic_in_a_real_kernel(course: Course, kernel: Any, tmp_path: Path) -> None:
    wrong = NAIVE.read_text()
    assert execute(kernel, "%load_ext dlgrade") == ("", "")
    for cell in cells_of(course, wrong):
        execute(kernel, cell)
    out, error = execute(kernel, "%grade stability")
    assert error == ""
    folder = tmp_path / "expected"
    folder.mkdir()
    (folder / "stability.py").write_text(
        (course.reference_dir() / "stability.py").read_text() + "\n\n" + wrong
    )
    want = grade_folder(course, folder, "stability")
    table = render_table(want).splitlines()
    got = out.splitlines()
    assert got[1:-2] == table[1:-2]  # every exercise and check line; the title names the notebook
    assert got[-2].startswith(table[-2].split(" · ")[0])  # the same total
    _, typo = execute(kernel, "%grade stable_sofmax")
    assert (
        typo.startswith("UsageError: unknown topic or exercise") and "did you mean 'stable_softmax'" in typo
    )
    mine, _ = execute(kernel, "%grade")  # no names: the exercises the notebook defines
    ids = {e.id for e in course.exercises}
    rows = [line.split()[0] for line in mine.splitlines() if line.split() and line.split()[0] in ids]
    assert rows == [e.id for e in course.topic("stability").exercises]
