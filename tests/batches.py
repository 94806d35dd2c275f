"""One small class graded by `grade batch` once a session, for every test that reads its gradebook.

tests/test_gradebooks.py (a roster, feedback files, exports, reports, regrades of a copy) and
tests/test_job_arrays.py (the unsharded run its Slurm and Kubernetes shards must merge into)
each graded the same four entries on one topic: the model solution, a known mistake, the stubs
and a file that is no submission. The batch runs once (tests/shared.py); its folder is read
only: a test that changes the submissions copies them, and writes its outputs elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from tests import submissions as subs
from tests.shared import Shared, _tag
from tests.support import ROOT, variant, with_appended

TOPIC = "stability"
ROSTER = """\ufeffid,Name,Email,SIS User ID,Section
correct,Ada Lovelace,ada@example.edu,1001,A
wrong,"Turing, Alan",alan@example.edu,1002,B
stub,Grace Hopper,grace@example.edu,1003,A
absent,Emmy Noether,emmy@example.edu,1004,B
"""


def batch_in_process(args: list[str]) -> Result:
    """`grade batch ARGS` run in this process from the course folder (its grading processes are
    real ones), over the whole folder whatever array runner this session runs under."""
    unsharded: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("SLURM_", "JOB_COMPLETION"))
    }
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(main, ["batch", *args], env=unsharded)
    finally:
        os.chdir(cwd)


def small_class(shared: Shared, course: Course) -> Path:
    """The folder of the graded class: submissions/, roster.csv, grades.csv and grades.json
    (`grade batch` with --roster and --feedback), feedback/."""
    key = f"small-class-{_tag(course)}"

    def make() -> Path:
        base = shared.folder / key
        folder = base / "submissions"
        folder.mkdir(parents=True)
        subs.correct(course, folder, "correct")
        naive = variant(TOPIC, "naive_softmax")
        with_appended(course, naive.module, naive.path, folder / "wrong")
        subs.stub(course, folder, "stub")
        (folder / "notes.txt").write_text("not a submission\n")
        (base / "roster.csv").write_text(ROSTER, encoding="utf-8")
        args = [str(folder), TOPIC, "--csv", str(base / "grades.csv"), "--roster", str(base / "roster.csv")]
        args += ["--feedback", str(base / "feedback"), "--jobs", "2"]
        done = batch_in_process(args)
        assert done.exit_code == 0, done.output
        return base

    return shared.get(key, make)
