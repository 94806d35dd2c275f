"""Gradebooks people use: incremental regrades (--since, --retry-errors), a roster, exports that
Canvas and Gradescope import (read back against the columns docs/batch.md documents), one
student's report out of a batch gradebook, and a feedback file per submission."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.batch.entries import Entry, Row
from dlgrade.batch.regrade import course_digest, entry_digest, plan
from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import points_text, score_text
from tests import submissions as subs
from tests.batches import TOPIC, small_class
from tests.courses import course_copy
from tests.shared import Shared
from tests.support import ROOT


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    return CliRunner()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def batch(*args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        done = CliRunner().invoke(main, ["batch", *args, "--jobs", "2"])
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture(scope="module")
def first(course: Course, shared: Shared) -> Path:
    """A graded batch with a roster and feedback files: the folder holding everything (made
    once a session, tests/batches.py; read only)."""
    return small_class(shared, course)


def book_rows(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in json.loads(path.read_text())["rows"]}


@pytest.mark.slow
def test_the_gradebook_carries_roster_columns_and_digests(first: Path) -> None:
    rows = {r["id"]: r for r in read_csv(first / "grades.csv")}
    assert list(rows["correct"])[:6] == ["id", "Name", "Email", "SIS User ID", "Section", "status"]
    assert rows["wrong"]["Name"] == "Turing, Alan" and rows["wrong"]["Email"] == "alan@example.edu"
    assert rows["notes.txt"]["Name"] == "" and rows["notes.txt"]["status"] == "rejected"
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["digest"]) for r in rows.values())
    assert float(rows["correct"]["total"]) > float(rows["wrong"]["total"]) > float(rows["stub"]["total"])


@pytest.mark.slow
def test_since_regrades_only_changed_submissions_and_error_rows(
    first: Path, course: Course, tmp_path
) -> None:
    folder = tmp_path / "submissions"
    shutil.copytree(first / "submissions", folder)
    old = json.loads((first / "grades.json").read_text())
    for row in old["rows"]:
        if row["id"] == "stub":  # as if its grading process had died
            row.update(status="error", reason="grading process ended (exit status 9)", result=None)
    (tmp_path / "old.json").write_text(json.dumps(old))
    shutil.rmtree(folder / "wrong")
    subs.correct(course, folder, "wrong")  # the student fixed it
    code, _, err = batch(
        str(folder), TOPIC, "--csv", str(tmp_path / "new.csv"), "--since", str(tmp_path / "old.json")
    )
    assert code == 0, err
    assert "(2 kept from the previous gradebook)" in err
    before, after = book_rows(first / "grades.json"), book_rows(tmp_path / "new.json")
    for kept in ("correct", "notes.txt"):
        assert after[kept] == before[kept]  # the very same row: timings and all
    assert after["stub"]["status"] == "graded" and after["stub"]["result"] is not None
    assert after["wrong"]["digest"] != before["wrong"]["digest"]
    assert after["wrong"]["result"]["score"] == after["correct"]["result"]["score"]

    code, _, err = batch(
        str(folder),
        TOPIC,
        "--csv",
        str(tmp_path / "retry.csv"),
        "--since",
        str(tmp_path / "old.json"),
        "--retry-errors",
    )
    assert code == 0, err
    retried = book_rows(tmp_path / "retry.json")
    assert retried["wrong"] == before["wrong"]  # changed, but only errors were asked for
    assert retried["stub"]["status"] == "graded"


def test_retry_errors_alone_is_a_usage_error(runner: CliRunner, tmp_path) -> None:
    result = runner.invoke(main, ["batch", str(tmp_path), "--retry-errors", "--csv", str(tmp_path / "g.csv")])
    assert result.exit_code == 2 and "--retry-errors needs --since" in result.output


def test_digests_follow_the_submission_and_the_course(course: Course, tmp_path) -> None:
    sub = subs.stub_copy(course, tmp_path / "s")
    part = course_digest(course, (TOPIC,))
    entry = Entry("s", str(sub))
    same = entry_digest(entry, part)
    assert entry_digest(entry, part) == same
    module = sub / f"{TOPIC}.py"
    module.write_text(module.read_text() + "\n# edited\n")
    assert entry_digest(entry, part) != same
    assert course_digest(course, ()) != part  # other names graded
    (tmp_path / "course").mkdir()
    other = course_copy(tmp_path / "course")
    grader = other / "graders" / f"test_{TOPIC}.py"
    grader.write_text(grader.read_text() + "\n# changed\n")
    assert course_digest(load_course(other), (TOPIC,)) != part


def test_plan_keeps_unchanged_rows_and_retries_errors() -> None:
    entries = [Entry(x, x) for x in ("a", "b", "c", "d")]
    digests = {"a": "1", "b": "2", "c": "3", "d": "4"}
    old = [Row("a", "graded", digest="1"), Row("b", "graded", digest="x"), Row("c", "error", digest="3")]
    todo, kept = plan(entries, digests, old)
    assert [e.id for e in todo] == ["b", "c", "d"] and [r.id for r in kept] == ["a"]
    todo, kept = plan(entries, digests, old, errors_only=True)
    assert [e.id for e in todo] == ["c", "d"] and [r.id for r in kept] == ["a", "b"]


def documented_columns(target: str) -> list[str]:
    """The columns docs/batch.md's export table gives for `target`."""
    for line in (ROOT / "docs" / "batch.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == f"`{target}`":
            return re.findall(r"`([^`]+)`", cells[1])
    raise AssertionError(f"docs/batch.md documents no columns for {target}")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["canvas", "gradescope", "csv"])
def test_exports_have_the_documented_columns_and_the_scores(
    first: Path, runner: CliRunner, target: str, tmp_path: Path
) -> None:
    out = tmp_path / f"{target}.csv"
    result = runner.invoke(
        main,
        [
            "export",
            str(first / "grades.json"),
            "--to",
            target,
            "--output",
            str(out),
            "--assignment",
            "Week 3",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    header = list(rows[0])
    totals = {r["id"]: r["result"] for r in json.loads((first / "grades.json").read_text())["rows"]}
    score = {k: "" if v is None else points_text(v["score"]) for k, v in totals.items()}
    if target == "canvas":
        assert header == [*documented_columns("canvas")[:5], "Week 3"]
        assert rows[0]["Student"] == "Points Possible"
        by = {r["SIS User ID"]: r for r in rows[1:]}
        assert by["1002"]["Student"] == "Turing, Alan" and by["1002"]["Week 3"] == score["wrong"]
        assert by["1004"]["Week 3"] == ""  # no submission: left blank, not zero
        assert "notes.txt" not in out.read_text() and "left out 1 submission" in result.stderr
    elif target == "gradescope":
        assert header == documented_columns("gradescope")
        by = {r["Email"]: r for r in rows}
        assert by["ada@example.edu"]["Total Score"] == score["correct"]
        assert set(by) == {"ada@example.edu", "alan@example.edu", "grace@example.edu", "emmy@example.edu"}
    else:
        assert header == ["id", "Name", "Email", "SIS User ID", "Section", *documented_columns("csv")[1:]]
        by = {r["id"]: r for r in rows}
        assert by["notes.txt"]["status"] == "rejected" and by["notes.txt"]["score"] == "0"
        assert by["absent"]["status"] == "missing" and by["absent"]["score"] == ""


@pytest.mark.slow
def test_report_renders_one_student_of_a_batch_gradebook(first: Path, runner: CliRunner) -> None:
    book = str(first / "grades.json")
    by_id = runner.invoke(main, ["report", book, "--id", "wrong", "--format", "json"])
    by_email = runner.invoke(main, ["report", book, "--id", "alan@example.edu", "--format", "json"])
    assert by_id.exit_code == 0 and json.loads(by_id.stdout) == json.loads(by_email.stdout)
    assert json.loads(by_id.stdout) == book_rows(first / "grades.json")["wrong"]["result"]
    bare = runner.invoke(main, ["report", book])
    assert bare.exit_code == 2 and "is a batch gradebook: name a submission with --id" in bare.stderr
    nobody = runner.invoke(main, ["report", book, "--id", "nobody"])
    assert nobody.exit_code == 2 and "no submission 'nobody'" in nobody.stderr
    rejected = runner.invoke(main, ["report", book, "--id", "notes.txt"])
    assert rejected.exit_code == 2 and "was not graded (rejected" in rejected.stderr


@pytest.mark.slow
def test_feedback_holds_one_report_per_submission(first: Path) -> None:
    files = sorted(p.name for p in (first / "feedback").iterdir())
    ids = ["correct", "notes.txt", "stub", "wrong"]
    assert files == sorted([f"{i}.md" for i in ids] + [f"{i}.html" for i in ids])
    wrong = (first / "feedback" / "wrong.md").read_text()
    result = book_rows(first / "grades.json")["wrong"]["result"]
    total = score_text(result["score"], result["max_score"])
    assert f"Points {total}" in wrong
    assert "could not be read" in (first / "feedback" / "notes.txt.md").read_text()
    page = (first / "feedback" / "wrong.html").read_text()
    parser = _Tags()
    parser.feed(page)
    topics = {e["topic"] for e in result["exercises"]}
    assert parser.opened.count("tr") == 1 + len(topics) + len(result["exercises"])
    assert f"Points <b>{total}</b>" in page and "Submission <b>wrong</b>" in page
    assert f"<h1>{html.escape(result['course'])}</h1>" in page
    statuses = {e["status"] for e in result["exercises"]}
    assert all(f'<span class="badge {s}">' in page for s in statuses)
    assert not any(ord(ch) > 0x2FFF for ch in page)  # no emoji: text badges coloured by CSS
    failed = [c for e in result["exercises"] for c in e["checks"] if c["outcome"] == "failed"]
    public = [c for c in failed if c["visibility"] == "public"]
    hidden = [c for c in failed if c["visibility"] == "hidden"]
    assert public and all(html.escape(c["message"]) in page for c in public)
    assert hidden and all(f"hidden check “{html.escape(c['name'])}” failed" in page for c in hidden)
    said = " ".join(c["message"] for c in public)
    assert all(html.escape(c["message"]) not in page for c in hidden if c["message"] not in said)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.opened.append(tag)


def test_html_escapes_student_text() -> None:
    from dlgrade.core.result import CheckResult, ExerciseResult, GradeResult
    from dlgrade.report.html import render_html

    check = CheckResult("c", "public", False, 0.0, 1.0, "<script>alert(1)</script>", "failed", hint="a < b")
    exercise = ExerciseResult("e", "t", "failed", 0.0, 1.0, (check,))
    page = render_html(GradeResult((exercise,), course="<b>x</b>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>x</b>" not in page


def test_a_bad_roster_is_a_usage_error(runner: CliRunner, tmp_path) -> None:
    (tmp_path / "r.csv").write_text("name,email\nA,a@x\n")
    (tmp_path / "subs").mkdir()
    result = runner.invoke(
        main,
        [
            "batch",
            str(tmp_path / "subs"),
            "--roster",
            str(tmp_path / "r.csv"),
            "--csv",
            str(tmp_path / "g.csv"),
        ],
    )
    assert result.exit_code == 2 and "needs an 'id' column" in result.stderr
