"""Named misconceptions through the real commands: a synthetic class (the model solution, a stub,
students carrying one or two known mistakes, three sharing a mistake the course does not know)
graded by `grade batch --feedback` (in this process), then `grade insight`: each student's
feedback names their mistakes, the report counts each named mistake with exactly its students,
and the unknown shared mistake is an unnamed cluster."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.batches import batch_in_process
from tests.support import ROOT, Variant, variant

GRADE = str(Path(sys.executable).with_name("grade"))
UNSEEN = (  # a mistake no file of mistakes/ holds: + 1 in the softmax's denominator
    "\n\ndef stable_softmax(x, dim=-1):\n"
    "    e = torch.exp(x - x.amax(dim=dim, keepdim=True))\n"
    "    return e / (e.sum(dim=dim, keepdim=True) + 1)\n"
)
CLASS: dict[str, tuple[str, ...]] = {  # student -> the known mistakes in their stability.py
    "ref": (),
    "naive1": ("naive_softmax",),
    "naive2": ("naive_softmax", "naive_logsumexp"),
    "dim": ("softmax_wrong_dim",),
    "two": ("clip_sum_of_norms", "log_of_softmax"),
}
SHARED = ("shared1", "shared2", "shared3")


def mistake(stem: str) -> Variant:
    v = variant("stability", stem)
    assert v.mistake and v.teaches and len(v.loses) == 1, stem  # a named mistake of one exercise
    return v


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("class")
    subs = root / "subs"
    model = (ROOT / "reference" / "stability.py").read_text()
    for student, stems in CLASS.items():
        shutil.copytree(ROOT / "exercises", subs / student)
        text = model + "".join("\n\n" + mistake(s).path.read_text() for s in stems)
        (subs / student / "stability.py").write_text(text)
    shutil.copytree(ROOT / "exercises", subs / "stub")
    for student in SHARED:
        shutil.copytree(ROOT / "exercises", subs / student)
        (subs / student / "stability.py").write_text(model + UNSEEN)
    # `grade batch` in this process (its grading processes are real ones; tests/test_containment.py
    # and tests/test_terminal_and_sheets.py run a real `grade batch` process); `grade insight` below
    # is a real process
    done = batch_in_process(
        [str(subs), "stability", "--csv", str(root / "grades.csv"), "--feedback", str(root / "fb")]
    )
    assert done.exit_code == 0, done.output
    return root


def test_each_students_feedback_names_their_mistakes(graded: Path) -> None:
    book = json.loads((graded / "grades.json").read_text())
    rows = {r["id"]: r for r in book["rows"]}
    for student in [*CLASS, "stub", *SHARED]:
        stems = CLASS.get(student, ())
        text = (graded / "fb" / f"{student}.md").read_text()
        page = (graded / "fb" / f"{student}.html").read_text()
        for stem in stems:
            v = mistake(stem)
            said = f"matches a common mistake: {v.mistake}; {v.teaches}"
            assert said in text.replace("\\", ""), (student, text)
            assert v.mistake in page
        assert text.count("matches a common mistake") == len(stems), (student, text)
        exercises = rows[student]["result"]["exercises"]
        named = {e["id"]: e["mistake"]["name"] for e in exercises if "mistake" in e}
        assert named == {mistake(s).loses[0]: mistake(s).mistake for s in stems}  # the gradebook too


def insight(graded: Path, out: Path, *options: str) -> dict:
    done = subprocess.run(
        [GRADE, "insight", str(graded / "grades.json"), "--out", str(out), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return {"stdout": done.stdout, "json": json.loads((out / "insight.json").read_text())}


def test_insight_counts_each_named_mistake_with_its_students(graded: Path, tmp_path: Path) -> None:
    report = insight(graded, tmp_path / "out")
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for student, stems in CLASS.items():
        for stem in stems:
            v = mistake(stem)
            expected[(v.loses[0], v.mistake)].append(student)
    got = {(m["exercise"], m["name"]): (m["students"], m["count"]) for m in report["json"]["mistakes"]}
    assert got == {k: (sorted(ids), len(ids)) for k, ids in expected.items()}
    assert [(c["exercise"], c["students"]) for c in report["json"]["clusters"]] == [
        ("stable_softmax", list(SHARED))
    ]  # the unknown shared mistake: unnamed; the named ones are no cluster
    naive = mistake("naive_softmax")
    assert f"Common mistake, 2 students: stable_softmax: {naive.mistake}" in report["stdout"]
    md = (tmp_path / "out" / "insight.md").read_text()
    assert "## Known mistakes the feedback named" in md and "naive1, naive2" in md
    assert naive.teaches in (tmp_path / "out" / "insight.html").read_text().replace("&#x27;", "'")


def test_the_anonymous_report_counts_without_ids(graded: Path, tmp_path: Path) -> None:
    report = insight(graded, tmp_path, "--anonymous")
    counts = {(m["exercise"], m["name"]): m["students"] for m in report["json"]["mistakes"]}
    assert counts[("stable_softmax", mistake("naive_softmax").mistake)] == 2
    for name in ("insight.md", "insight.html", "insight.json"):
        assert "naive1" not in (tmp_path / name).read_text()
