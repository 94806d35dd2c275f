"""`grade nbgrader`: the course it writes, for every topic, without nbgrader's executor.

nbgrader's own release steps (ClearSolutions, ClearHiddenTests) run in-process here; the
whole pipeline (generate_assignment, autograde, export) is tests/test_nbgrader_pipeline.py.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from traitlets.config.loader import PyFileConfigLoader

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, load_course
from dlgrade.intake.notebook_code import module_source
from dlgrade.nbgrader.autograde import autograde_preprocessors
from dlgrade.nbgrader.course import write_nbgrader_course
from tests.support import ROOT, grade_folder, mistake_words

TOPICS = [t.id for t in load_course(ROOT).topics]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


@pytest.fixture(scope="module")
def written(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("nbgrader") / "course"
    write_nbgrader_course(course, dest)
    return dest


def source_notebook(where: Path, topic: str):
    notebook = nbformat.read(where / "source" / topic / f"{topic}.ipynb", as_version=4)
    nbformat.validate(notebook)
    return notebook


def released(notebook):
    """What `nbgrader generate_assignment` gives students, by nbgrader's own preprocessors."""
    cleared, resources = ClearSolutions().preprocess(copy.deepcopy(notebook), {})
    return ClearHiddenTests().preprocess(cleared, resources)[0]


def graded(course: Course, topic: str, notebook, folder: Path):
    folder.mkdir()
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    (folder / f"{course.topic(topic).module}.py").write_text(module_source(cells))
    return grade_folder(course, folder, topic)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("topic", TOPICS)
def test_one_solution_and_one_check_cell_per_exercise(course: Course, written: Path, topic: str) -> None:
    notebook = source_notebook(written, topic)
    exercises = course.topic(topic).exercises
    solutions = [nbgrader_meta(c)["grade_id"] for c in notebook.cells if nbgrader_meta(c).get("solution")]
    checks = {nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if nbgrader_meta(c).get("grade")}
    assert solutions == [e.id for e in exercises]
    assert list(checks) == [f"{e.id}_checks" for e in exercises]
    assert [nbgrader_meta(c)["points"] for c in checks.values()] == [e.points for e in exercises]
    for e in exercises:
        source = checks[f"{e.id}_checks"].source
        assert f'grade_cell(\n    "{e.id}",' in source
        assert [m.strip() for m in HIDDEN.findall(source)] == ["hidden_checks=True,"]
    ids = [c.id for c in notebook.cells]
    assert len(ids) == len(set(ids))
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert all(e.summary in text for e in exercises)


@pytest.mark.parametrize("topic", TOPICS)
def test_source_notebook_gets_full_marks_and_release_is_not_started(
    course: Course, written: Path, topic: str, tmp_path: Path
) -> None:
    notebook = source_notebook(written, topic)
    solved = graded(course, topic, notebook, tmp_path / "source")
    assert solved.internal_errors == ()
    assert {e.id: e.status for e in solved.exercises} == {
        e.id: "passed" for e in course.topic(topic).exercises
    }
    release = released(notebook)
    assert "hidden_checks" not in "".join(c.source for c in release.cells)
    stubs = graded(course, topic, release, tmp_path / "release")
    assert {e.id: (e.status, e.score) for e in stubs.exercises} == {
        e.id: ("not_started", 0.0) for e in course.topic(topic).exercises
    }


def test_no_known_mistake_in_the_nbgrader_course(written: Path) -> None:
    """Known mistakes are instructor-only: neither the source nor the released notebooks hold one."""
    files = [p for p in written.rglob("*") if p.is_file()]
    text = "\n".join(p.read_text(errors="replace") for p in files)
    assert files and not any("mistakes" in p.relative_to(written).parts for p in files)
    assert [w for w in mistake_words() if w in text] == []


def test_config_points_kernels_at_loopback_and_the_course(course: Course, written: Path) -> None:
    saved = os.environ.get("DLGRADE_COURSE")
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(written)).load_config()
        assert Path(os.environ["DLGRADE_COURSE"]).resolve() == course.root
    finally:
        if saved is None:
            os.environ.pop("DLGRADE_COURSE", None)
        else:
            os.environ["DLGRADE_COURSE"] = saved
    assert config.CourseDirectory.root == str(written)
    assert (config.KernelManager.transport, config.KernelManager.ip) == ("tcp", "127.0.0.1")
    assert config.Execute.timeout == 300 and config.Execute.interrupt_on_timeout is True
    # nbgrader's autograde takes the check cells' points from dlgrade, out of the kernel's reach
    assert config.Autograde.autograde_preprocessors == autograde_preprocessors()
    assert config.RegradeNotebook.timeout == 300


def test_cli_writes_the_course_and_refuses_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    dest = tmp_path / "nb"
    ok = runner.invoke(main, ["nbgrader", str(dest), TOPICS[0], "--cell-timeout", "45"])
    assert ok.exit_code == 0, ok.output
    assert (dest / "source" / TOPICS[0] / f"{TOPICS[0]}.ipynb").is_file()
    assert "c.Execute.timeout = 45" in (dest / "nbgrader_config.py").read_text()
    again = runner.invoke(main, ["nbgrader", str(dest)])
    assert again.exit_code == 2 and "is not empty; use --force" in again.output
    forced = runner.invoke(main, ["nbgrader", str(dest), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "c.Execute.timeout = 300" in (dest / "nbgrader_config.py").read_text()
    unknown = runner.invoke(main, ["nbgrader", str(tmp_path / "other"), "no_such_topic"])
    assert unknown.exit_code == 2 and "unknown topic 'no_such_topic'" in unknown.output
    assert not (tmp_path / "other").exists()
    (tmp_path / "file").write_text("x")
    a_file = runner.invoke(main, ["nbgrader", str(tmp_path / "file")])
    assert a_file.exit_code == 2 and "is a file" in a_file.output
    zero = runner.invoke(main, ["nbgrader", str(tmp_path / "z"), "--cell-timeout", "0"])
    assert zero.exit_code == 2
