"""`grade insight` on a synthetic class graded by `grade batch` (in this process: real grading
processes; tests/test_batch.py runs the real `grade batch` command): the counts are exact, a
failure many students share is one cluster with exactly those students, and the pages are
written (ids only in the instructor's copy)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.batches import batch_in_process
from tests.support import ROOT, variant

GRADE = str(Path(sys.executable).with_name("grade"))
UNSEEN = (  # a mistake no fixture names: + 1 in the denominator
    "\n\ndef stable_softmax(x, dim=-1):\n"
    "    e = torch.exp(x - x.amax(dim=dim, keepdim=True))\n"
    "    return e / (e.sum(dim=dim, keepdim=True) + 1)\n"
)
CLASS = {  # student -> what their stability.py is
    "ref": "reference",
    "stub1": "stubs",
    "stub2": "stubs",
    "naive1": "naive",
    "naive2": "naive",
    "shared1": "unseen",
    "shared2": "unseen",
    "shared3": "unseen",
}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("class")
    subs = root / "subs"
    subs.mkdir()
    model = (ROOT / "reference" / "stability.py").read_text()
    naive = variant("stability", "naive_softmax").path.read_text()
    for student, kind in CLASS.items():
        dest = subs / student
        shutil.copytree(ROOT / "exercises", dest)
        text = {"reference": model, "stubs": None, "naive": model + "\n" + naive, "unseen": model + UNSEEN}[
            kind
        ]
        if text is not None:
            (dest / "stability.py").write_text(text)
    done = batch_in_process([str(subs), "stability", "--csv", str(root / "grades.csv")])
    assert done.exit_code == 0, done.output
    return root / "grades.json"


def test_the_class_report_counts_exactly(gradebook: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [GRADE, "insight", str(gradebook), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "insight.json").read_text())
    assert report["submissions"] == len(CLASS) and report["ungraded"] == 0
    ex = {e["exercise"]: e for e in report["exercises"]}
    assert (
        ex["stable_softmax"]["passed"],
        ex["stable_softmax"]["partial"] + ex["stable_softmax"]["failed"],
    ) == (
        1,
        5,
    )
    assert ex["stable_softmax"]["not_started"] == 2 and ex["stable_softmax"]["tried"] == 6
    assert ex["logsumexp"]["passed"] == 6 and ex["logsumexp"]["not_started"] == 2
    assert report["reteach"][0]["exercise"] == "stable_softmax"
    clusters = report["clusters"]
    assert [(c["exercise"], c["students"]) for c in clusters] == [
        ("stable_softmax", ["shared1", "shared2", "shared3"])
    ]  # the naive pair is below --min-cluster 3; the stubs are not started, not a failure
    checks = {(c["exercise"], c["check"]): c for c in report["checks"]}
    finite = checks[("stable_softmax", "large logits stay finite")]
    assert (finite["failed"], finite["tried"]) == (5, 6)  # the naive pair and the shared three
    assert "shared1" in (tmp_path / "out" / "insight.md").read_text()
    page = (tmp_path / "out" / "insight.html").read_text()
    assert "data:image/png;base64," in page and "<table>" in page
    assert "1. stable_softmax:" in done.stdout.splitlines()[2]


def test_the_anonymous_copy_has_no_student_ids(gradebook: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [GRADE, "insight", str(gradebook), "--out", str(tmp_path), "--anonymous"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for name in ("insight.md", "insight.html", "insight.json"):
        assert "shared1" not in (tmp_path / name).read_text()


def test_a_file_that_is_no_gradebook_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "grades.json"
    bad.write_text("{}")
    done = subprocess.run([GRADE, "insight", str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
