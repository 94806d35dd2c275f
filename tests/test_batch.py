"""`grade batch` and `grade merge`: one row per submission whatever it does, hostile archives
refused with a reason and nothing written outside the work directory, shards that merge into
exactly the unsharded gradebook."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, load_course
from tests import submissions as subs
from tests.archives import HOSTILE
from tests.courses import course_copy
from tests.support import ROOT, reference_copy, variant, with_appended

TOPIC = "stability"  # graded in these tests, so they do not grow with the course
GRADE = str(Path(sys.executable).with_name("grade"))


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    return CliRunner()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def batch_dir(course: Course, tmp_path_factory) -> tuple[Path, Path]:
    """(submissions folder, path outside every work directory that escapes would reach)."""
    base = tmp_path_factory.mktemp("batch")
    folder, outside = base / "submissions", base / "outside" / "escaped.txt"
    folder.mkdir()
    subs.correct(course, folder, "correct")
    subs.correct_nested(course, folder, "nested")
    naive = variant(TOPIC, "naive_softmax")
    with_appended(course, naive.module, naive.path, folder / "wrong")
    subs.stub(course, folder, "stub")
    subs.hostile_code(course, folder, "crash", "os_exit_in_call")
    subs.hostile_code(course, folder, "loop", "infinite_loop")
    for kind in HOSTILE:
        subs.hostile_archive(folder, f"x_{kind}", kind, outside)
    (folder / "notes.txt").write_text("not a submission\n")
    (folder / "linked").symlink_to(course.reference_dir(), target_is_directory=True)
    sneaky = folder / "sneaky"
    sneaky.mkdir()
    (sneaky / "stability.py").symlink_to(course.reference_dir() / "stability.py")
    return folder, outside


@pytest.fixture(scope="module")
def unsharded(batch_dir, tmp_path_factory) -> tuple[Path, Path, CliRunner]:
    folder, _ = batch_dir
    out = tmp_path_factory.mktemp("unsharded")
    (out / "work").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        args = ["batch", str(folder), TOPIC, "--csv", str(out / "grades.csv"), "--workdir", str(out / "work")]
        result = CliRunner().invoke(main, [*args, "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out / "grades.csv"), str(out / "grades.json")]
    return out, folder, result


@pytest.mark.slow
def test_one_row_per_submission_with_status_and_reason(unsharded, course: Course) -> None:
    out, folder, _ = unsharded
    rows = {r["id"]: r for r in read_csv(out / "grades.csv")}
    assert list(rows) == sorted(rows)
    expected_ids = {p.name.removesuffix(".zip") for p in folder.iterdir()}
    assert set(rows) == expected_ids
    full = str(int(course.topic(TOPIC).points))
    assert (rows["correct"]["status"], rows["correct"]["total"]) == ("graded", full)
    assert (rows["nested"]["status"], rows["nested"]["total"]) == ("graded", full)
    assert (rows["stub"]["status"], rows["stub"]["total"]) == ("graded", "0")
    assert rows["wrong"]["status"] == "graded" and float(rows["wrong"]["stable_softmax"]) < 5
    assert rows["wrong"]["logsumexp"] == rows["wrong"]["log_softmax"] == "5"
    assert (rows["crash"]["status"], rows["crash"]["log_softmax"], rows["crash"]["logsumexp"]) == (
        "graded",
        "0",
        "5",
    )
    assert (rows["loop"]["status"], rows["loop"]["stable_softmax"], rows["loop"]["log_softmax"]) == (
        "graded",
        "0",
        "5",
    )
    for kind, (_build, reason) in HOSTILE.items():
        row = rows[f"x_{kind}"]
        assert (row["status"], row["total"]) == ("rejected", ""), kind
        assert reason in row["reason"], (kind, row["reason"])
    assert rows["notes.txt"]["status"] == "rejected" and "not a zip" in rows["notes.txt"]["reason"]
    assert rows["linked"]["status"] == "rejected" and "symlink" in rows["linked"]["reason"]
    assert rows["sneaky"]["status"] == "rejected" and "symlink" in rows["sneaky"]["reason"]


@pytest.mark.slow
def test_the_json_beside_holds_every_result(unsharded) -> None:
    out, _, _ = unsharded
    book = json.loads((out / "grades.json").read_text())
    csv_rows = read_csv(out / "grades.csv")
    assert [r["id"] for r in book["rows"]] == [r["id"] for r in csv_rows]
    for row, line in zip(book["rows"], csv_rows, strict=True):
        assert row["status"] == line["status"]
        assert (row["result"] is not None) == (row["status"] == "graded")
        if row["result"]:
            assert f"{row['result']['score']:g}" == line["total"]
            assert [e["id"] for e in row["result"]["exercises"]] == book["exercises"]
    assert book["counts"]["error"] == 0 and book["shard"] is None


@pytest.mark.slow
def test_nothing_is_written_outside_the_work_directory(unsharded, batch_dir) -> None:
    out, folder, _ = unsharded
    _, outside = batch_dir
    assert not outside.parent.exists()
    assert list((out / "work").iterdir()) == []  # every private folder removed
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "grades.json", "work"]
    for escaped in ("escaped.py", "escaped.txt"):
        assert not list(folder.parent.parent.rglob(escaped))


@pytest.mark.slow
def test_shards_merge_into_the_unsharded_gradebook(unsharded, runner: CliRunner, tmp_path) -> None:
    """Two shards run at the same time as separate processes, as a CI matrix runs them."""
    out, folder, _ = unsharded
    command = [GRADE, "batch", str(folder), TOPIC, "--jobs", "1"]
    shards = [
        subprocess.Popen(
            [*command, "--shard", f"{i}/2", "--csv", str(tmp_path / f"s{i}.csv")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    for proc in shards:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    shard_rows = [{r["id"] for r in read_csv(tmp_path / f"s{i}.csv")} for i in (1, 2)]
    assert shard_rows[0] and shard_rows[1] and not shard_rows[0] & shard_rows[1]
    args = ["merge", str(tmp_path / "s2.json"), str(tmp_path / "s1.json"), "--csv", str(tmp_path / "all.csv")]
    merged = runner.invoke(main, args)
    assert merged.exit_code == 0, merged.output
    assert (tmp_path / "all.csv").read_text() == (out / "grades.csv").read_text()
    whole, joined = (json.loads(p.read_text()) for p in (out / "grades.json", tmp_path / "all.json"))
    assert without_durations(joined) == without_durations(whole)


def without_durations(book: dict) -> list[dict]:
    """A gradebook's rows without grading times: the one thing two runs may differ in."""
    return [{**r, "result": r["result"] and {**r["result"], "duration_s": 0}} for r in book["rows"]]


@pytest.mark.slow
def test_merge_refuses_overlapping_missing_and_foreign_shards(unsharded, runner: CliRunner, tmp_path) -> None:
    out, _, _ = unsharded
    book = json.loads((out / "grades.json").read_text())
    shards = []
    for i in (1, 2, 3):
        part = {**book, "shard": {"index": i, "count": 3}, "rows": book["rows"][i - 1 :: 3]}
        shards.append(tmp_path / f"s{i}.json")
        shards[-1].write_text(json.dumps(part))
    cases = {
        "overlapping shards: shard 1/3": [shards[0], shards[0], shards[1], shards[2]],
        "missing shards: 2/3": [shards[0], shards[2]],
        "takes shard gradebooks": [out / "grades.json"],
    }
    foreign = tmp_path / "foreign.json"
    foreign.write_text(
        json.dumps({**json.loads(shards[2].read_text()), "universe": {"sha256": "0", "submissions": 1}})
    )
    cases["from a different batch"] = [shards[0], shards[1], foreign]
    for message, files in cases.items():
        result = runner.invoke(main, ["merge", *map(str, files), "--csv", str(tmp_path / "m.csv")])
        assert result.exit_code == 2, (message, result.output)
        assert message in result.stderr
        assert not (tmp_path / "m.csv").exists()
    ok = runner.invoke(main, ["merge", *map(str, shards), "--csv", str(tmp_path / "m.csv")])
    assert ok.exit_code == 0 and (tmp_path / "m.csv").read_text() == (out / "grades.csv").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/folder"], "does not exist"),
        ([".", "--shard", "3/2"], "between 1 and N"),
        ([".", "--shard", "two"], "is not I/N"),
        ([".", "no_such_topic"], "unknown topic or exercise"),
        ([".", "--csv", "/no/such/folder/grades.csv"], "folder /no/such/folder does not exist"),
    ],
)
def test_batch_usage_errors_exit_2(runner: CliRunner, tmp_path, args: list[str], message: str) -> None:
    result = runner.invoke(main, ["batch", "--csv", str(tmp_path / "never.csv"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


@pytest.mark.slow
def test_grading_failures_get_error_rows_and_exit_3(course: Course, monkeypatch, tmp_path) -> None:
    """A grading process that dies (here: a grader that kills it) costs its submission's row,
    and the batch exits 3 after writing the gradebook."""
    (tmp_path / "course").mkdir()
    root = course_copy(tmp_path / "course")
    grader = root / "graders" / f"test_{TOPIC}.py"
    grader.write_text(
        grader.read_text() + "\nimport os\n\nos._exit(9)  # an engine bug that kills the grading process\n"
    )
    folder = tmp_path / "subs"
    folder.mkdir()
    reference_copy(course, folder / "a")
    reference_copy(course, folder / "b")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["batch", str(folder), "--jobs", "2", "--csv", str(tmp_path / "g.csv")])
    assert result.exit_code == 3, result.output
    rows = read_csv(tmp_path / "g.csv")
    assert [(r["id"], r["status"]) for r in rows] == [("a", "error"), ("b", "error")]
    assert all("grading process ended (exit status 9)" in r["reason"] for r in rows)


@pytest.mark.slow
def test_a_submission_past_the_timeout_is_stopped(course: Course, runner: CliRunner, tmp_path) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(subs.hostile_code(course, tmp_path, "loop", "infinite_loop"), folder / "a_loop.zip")
    reference_copy(course, folder / "b_fine")
    args = [
        "batch",
        str(folder),
        "stable_softmax",
        "--jobs",
        "1",
        "--timeout",
        "2",
        "--csv",
        str(tmp_path / "g.csv"),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 3, result.output
    rows = {r["id"]: r for r in read_csv(tmp_path / "g.csv")}
    assert rows["a_loop"]["status"] == "error" and "longer than 2 s" in rows["a_loop"]["reason"]
    assert (rows["b_fine"]["status"], rows["b_fine"]["total"]) == ("graded", "5")


@pytest.mark.slow
def test_an_interrupted_batch_leaves_the_old_gradebook(course: Course, tmp_path, tmp_path_factory) -> None:
    """SIGINT while a submission is being graded. Deterministic under any load: in this copy of
    the course a call may run for a minute, so the looping submissions keep the batch busy until
    the signal comes, and the signal is sent once the first row shows that grading started."""
    root = course_copy(tmp_path_factory.mktemp("course"))
    manifest = root / "course.toml"
    text = manifest.read_text()
    assert "\ntime_limit = 10.0 " in text  # [defaults], and exercises' own limits (stable_softmax's)
    # a minute per looping call: the batch is still busy when the signal comes, however loaded the
    # machine, and the call it waits for after the signal ends well within communicate's 120 s
    manifest.write_text(re.sub(r"(?m)^time_limit = [0-9.]+", "time_limit = 60.0", text))
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "a_broken.zip").write_text("not a zip\n")
    for name in ("b_loop", "c_loop"):
        shutil.copy(subs.hostile_code(course, tmp_path, name, "infinite_loop"), folder / f"{name}.zip")
    old = tmp_path / "grades.csv"
    old.write_text("id,status\nprevious,graded\n")
    proc = subprocess.Popen(
        [GRADE, "batch", str(folder), "--jobs", "1", "--csv", str(old)],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        # as at a terminal: SIGINT's default action, whatever this test process inherited (a process
        # started with SIGINT ignored keeps it ignored, and Python then installs no handler for it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    # Only a failure waits for this: the row never coming (the batch is then killed, stderr ends).
    watchdog = threading.Timer(900, proc.kill)
    watchdog.start()
    seen = []
    for line in proc.stderr:  # the first row: grading has started, and b_loop now loops
        seen.append(line)
        if "a_broken: rejected" in line:
            break
    watchdog.cancel()
    assert seen and "a_broken: rejected" in seen[-1], "".join(seen)
    proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:  # say what the batch's processes were doing, then fail
        tree = subprocess.run(["ps", "-eo", "pid,ppid,stat,wchan:32,args"], capture_output=True, text=True)
        proc.kill()
        raise AssertionError(f"no exit 120 s after SIGINT; processes:\n{tree.stdout}") from None
    assert proc.returncode == 130, rest
    assert "no gradebook written" in rest
    assert old.read_text() == "id,status\nprevious,graded\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b_loop.zip", "c_loop.zip", "grades.csv", "subs"]


def test_the_gradebook_being_written_is_not_a_submission(tmp_path) -> None:
    from dlgrade.batch.entries import discover

    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / "grades.csv").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    found = discover(tmp_path, ignore=(tmp_path / "grades.csv", tmp_path / "grades.json"))
    assert [e.id for e in found] == ["alice"]


def test_student_text_cannot_become_a_spreadsheet_formula() -> None:
    from dlgrade.batch.entries import Row
    from dlgrade.batch.gradebook import Gradebook

    rows = (Row("=HYPERLINK(1)", "rejected", "-bad"), Row("@sum", "rejected", "fine"))
    book = Gradebook("c", ("a",), 5.0, rows, universe="0", submissions=2)
    lines = list(csv.reader(book.csv_text().splitlines()))
    assert [line[0] for line in lines[1:]] == ["'=HYPERLINK(1)", "'@sum"]
    assert [line[-2] for line in lines[1:]] == ["'-bad", "fine"]  # reason, then digest


@pytest.mark.slow
def test_grading_processes_that_cannot_start_stop_the_batch(tmp_path) -> None:
    """Processes that die before they are ready (here: no course where they look) are an engine
    failure after a few tries, not one error row per submission, forever."""
    from dlgrade.batch.entries import Entry
    from dlgrade.batch.pool import MAX_EARLY_DEATHS, Job, PoolError, grade_all

    job = Job(course_root=str(tmp_path / "no_course"), names=(), workdir=str(tmp_path))
    entries = [Entry(f"s{i}", str(tmp_path)) for i in range(10)]
    rows = []
    with pytest.raises(PoolError, match=f"{MAX_EARLY_DEATHS} grading processes in a row died"):
        grade_all(job, entries, processes=1, timeout=60, on_row=rows.append)
    assert len(rows) == MAX_EARLY_DEATHS  # then it stopped, with 7 submissions left
    assert all(r.status == "error" and "grading process ended" in r.reason for r in rows)


def test_a_batch_where_the_kernel_cannot_contain_the_workers_grades_nothing(tmp_path: Path) -> None:
    """Under `--containment require` (a batch's default) each grading process tries one real
    worker before its first submission; a course the workers can read (kept inside the Python
    installation they are allowed to read) stops the batch: exit 3, why, and no gradebook."""
    inside = Path(sys.prefix) / f"dlgrade-test-course-{os.getpid()}-{tmp_path.name}"
    try:
        inside.mkdir()
        course = course_copy(inside)
        folder = tmp_path / "subs"
        folder.mkdir()
        subs.correct(load_course(course), folder, "alice")
        out = tmp_path / "grades.csv"
        proc = subprocess.run(
            [GRADE, "batch", str(folder), "stability", "--csv", str(out), "--containment", "require"],
            cwd=course,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(inside, ignore_errors=True)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "kernel containment unavailable" in proc.stderr and "workers can read" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
