"""Due dates, extensions, late policies and the reveal of hidden checks after the due date.

The rules first (times parsed strictly, each policy's penalty, exact points), then the real
`grade batch` on a few one-exercise submissions with a due date, an extension and each policy,
its gradebook, exports and feedback, the reveal refused before the due date and given after it,
and every mistake as one line.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.batch.deadline import (
    DeadlineError,
    LatePolicy,
    course_deadline,
    late,
    parse_deadline,
    parse_time,
)
from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from dlgrade.core.result import points
from dlgrade.report.markdown import escape
from tests.courses import course_copy
from tests.support import reference_copy, variant, with_appended

EXERCISE = "stable_softmax"  # one exercise with hidden checks keeps each batch short
DUE = "2026-01-10T23:59:00+01:00"
PER_DAY = f'\n[deadline]\ndue = "{DUE}"\npolicy = "per_day"\n'
PER_DAY += "percent_per_day = 10\nmax_percent = 30\ncutoff_days = 5\n"


def _one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-01-10T23:59:00", "no time zone"),
        ("2026-01-10", "time of day"),
        ("10/01/2026 23:59 +01:00", "not an ISO 8601"),
        ("yesterday", "not an ISO 8601"),
    ],
)
def test_a_time_needs_a_date_a_time_and_a_zone(text, says) -> None:
    with pytest.raises(DeadlineError, match=says):
        parse_time(text, "t")


def test_times_with_zones_compare_as_instants() -> None:
    assert parse_time("2026-01-11T00:30:00+01:00", "t") == parse_time("2026-01-10T23:30:00Z", "t")


def _late(policy: dict[str, object], after: timedelta) -> Fraction:
    deadline = parse_deadline({"due": DUE, **policy})
    return late(deadline, deadline.due + after, {}, "s", "test").penalty


@pytest.mark.parametrize(
    ("after", "percent"),
    [
        (timedelta(0), 0),
        (timedelta(seconds=-5), 0),
        (timedelta(seconds=1), 10),  # any part of a day counts as a day
        (timedelta(days=1), 10),
        (timedelta(days=1, seconds=1), 20),
        (timedelta(days=2, hours=12), 30),
        (timedelta(days=4), 30),  # the cap
        (timedelta(days=5), 30),  # the cut-off is "more than 5 days"
        (timedelta(days=5, seconds=1), 100),
    ],
)
def test_per_day_with_a_cap_and_a_cut_off(after, percent) -> None:
    policy = {"policy": "per_day", "percent_per_day": 10, "max_percent": 30, "cutoff_days": 5}
    assert _late(policy, after) == percent


def test_cutoff_and_none() -> None:
    assert _late({"policy": "cutoff", "cutoff_days": 2}, timedelta(days=2)) == 0
    assert _late({"policy": "cutoff", "cutoff_days": 2}, timedelta(days=2, seconds=1)) == 100
    assert _late({"policy": "cutoff"}, timedelta(seconds=1)) == 100  # no grace at all
    assert _late({"policy": "none"}, timedelta(days=400)) == 0


def test_an_extension_moves_the_students_own_due_date() -> None:
    deadline = parse_deadline({"due": DUE, "policy": "cutoff"})
    at = deadline.due + timedelta(days=2)
    assert late(deadline, at, {"Extension_Days": "2.5"}, "s", "t").penalty == 0
    assert late(deadline, at, {"extension_days": "1"}, "s", "t").penalty == 100
    assert late(deadline, at, {"due": "2026-01-20T00:00:00Z"}, "s", "t").penalty == 0
    with pytest.raises(DeadlineError, match="both extension_days and due"):
        late(deadline, at, {"extension_days": "1", "due": "2026-01-20T00:00:00Z"}, "s", "t")
    with pytest.raises(DeadlineError, match="must be at least 0"):
        late(deadline, at, {"extension_days": "-1"}, "s", "t")


def test_the_adjusted_total_is_exact_and_rounded_once() -> None:
    deadline = parse_deadline({"due": DUE, "policy": "per_day", "percent_per_day": "12.5"})
    one = late(deadline, deadline.due + timedelta(hours=1), {}, "s", "t")
    assert one.adjusted(2.38) == points(Fraction("2.38") * Fraction(875, 1000)) == 2.08  # 2.0825
    assert one.adjusted(0.1) == 0.09  # 0.0875, not float noise
    assert LatePolicy().penalty(timedelta(days=3)) == 0


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"due": DUE, "policy": "weekly"}, "is not one of"),
        ({"due": DUE, "policy": "cutoff", "percent_per_day": 5}, "not a setting of policy"),
        ({"due": DUE, "policy": "per_day"}, "needs percent_per_day"),
        ({"due": DUE, "policy": "per_day", "percent_per_day": 150}, "between 0 and 100"),
        ({"due": DUE, "policy": "per_day", "percent_per_day": "ten"}, "not a number"),
        ({"policy": "none"}, "'due'"),
        ({"due": "2026-01-10T23:59:00"}, "no time zone"),
    ],
)
def test_a_bad_deadline_table_says_what_is_wrong(table, says) -> None:
    with pytest.raises(DeadlineError, match=says):
        parse_deadline(table)


def test_the_deadline_round_trips_through_the_gradebook_json() -> None:
    from dlgrade.batch.deadline import Deadline

    for table in (
        {"due": DUE, "policy": "per_day", "percent_per_day": 12.5, "max_percent": 50, "cutoff_days": 3},
        {"due": DUE, "policy": "cutoff", "cutoff_days": 1.5},
        {"due": DUE},
    ):
        deadline = parse_deadline(table)
        assert Deadline.from_dict(json.loads(json.dumps(deadline.to_dict()))) == deadline


def test_a_toml_datetime_and_the_due_option(tmp_path) -> None:
    (tmp_path / "course.toml").write_text('[deadline]\ndue = 2026-01-10T23:59:00+01:00\npolicy = "none"\n')
    assert course_deadline(tmp_path) == parse_deadline({"due": DUE})
    moved = course_deadline(tmp_path, "2026-02-01T00:00:00Z")
    assert moved is not None and moved.due == datetime(2026, 2, 1, tzinfo=UTC)
    (tmp_path / "course.toml").write_text("title = 'x'\n")
    assert course_deadline(tmp_path) is None


# --- the real command -----------------------------------------------------------------------

TIMES = {  # submission -> when it came in; the penalty the per_day policy gives it
    "ontime": ("2026-01-10T22:00:00Z", 0),
    "late1": ("2026-01-11T00:30:00+01:00", 10),  # 31 minutes late: one started day
    "late3": ("2026-01-13T12:00:00Z", 30),
    "late4": ("2026-01-14T12:00:00Z", 30),  # 40% capped at 30%
    "late9": ("2026-01-19T12:00:00Z", 100),  # past the 5-day cut-off
    "ext": ("2026-01-12T12:00:00Z", 0),  # 2 days late, 3 days' extension
    "owndue": ("2026-01-16T12:00:00Z", 20),  # a day and a half after its own due date
    "naive": ("2026-01-10T10:00:00Z", 0),  # fails public and hidden checks
}
ROSTER = (
    "id,name,email,extension_days,due\next,Ext,ext@x.edu,3,\nowndue,Own,own@x.edu,,2026-01-15T00:00:00Z\n"
)
ROSTER += "ontime,On,on@x.edu,,\n"


def _course(base: Path, deadline: str) -> Path:
    (base / "course").mkdir()
    root = course_copy(base / "course")
    with (root / "course.toml").open("a") as f:
        f.write(deadline)
    return root


def _submissions(course: Course, folder: Path, names) -> Path:
    folder.mkdir()
    for name in names:
        if name == "naive":
            bad = variant("stability", "naive_softmax")
            with_appended(course, bad.module, bad.path, folder / name)
        else:
            reference_copy(course, folder / name)
    return folder


def _batch(root: Path, *args: str):
    cwd = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["batch", *args])
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def per_day(course: Course, tmp_path_factory) -> Path:
    """The per_day course, graded once: times from --submitted-at, a roster with extensions."""
    base = tmp_path_factory.mktemp("per_day")
    root = _course(base, PER_DAY)
    _submissions(course, base / "subs", TIMES)
    (base / "times.csv").write_text(
        "id,submitted_at\n" + "".join(f"{k},{t}\n" for k, (t, _) in TIMES.items())
    )
    (base / "roster.csv").write_text(ROSTER)
    (base / "out").mkdir()
    result = _batch(
        root,
        *(str(base / "subs"), EXERCISE, "--csv", str(base / "out" / "grades.csv"), "--jobs", "1"),
        *("--submitted-at", str(base / "times.csv"), "--roster", str(base / "roster.csv")),
        *("--feedback", str(base / "fb")),
    )
    assert result.exit_code == 0, result.output
    assert "; 5 handed in after their due date" in result.stderr  # late1, late3, late4, late9, owndue
    return base


def _penalised(raw: str, percent: int) -> str:
    from dlgrade.core.result import points_text

    return points_text(Fraction(raw) * (100 - percent) / 100)


@pytest.mark.slow
def test_the_gradebook_keeps_raw_and_adjusted_totals(per_day) -> None:
    rows = {r["id"]: r for r in read_csv(per_day / "out" / "grades.csv")}
    assert set(rows) == set(TIMES)
    for sid, (when, percent) in TIMES.items():
        row = rows[sid]
        assert row["penalty_percent"] == str(percent), (sid, row)
        assert row["total"] == _penalised(row["raw_total"], percent), (sid, row)
        assert parse_time(row["handed_in"], sid) == parse_time(when, sid)
    assert rows["ontime"]["raw_total"] == "5" and rows["late3"]["total"] == "3.5"
    assert rows["naive"]["raw_total"] not in ("0", "5")  # partial: the penalty would show on it
    assert rows["ext"]["due_date"] == "2026-01-13T23:59:00+01:00" and rows["ext"]["days_late"] == "0"
    own = rows["owndue"]  # the roster's due column as given, and ours
    assert (own["due"], own["due_date"]) == ("2026-01-15T00:00:00Z", "2026-01-15T00:00:00+00:00")
    assert rows["late9"]["days_late"] == "9" and rows["late9"]["total"] == "0"
    book = json.loads((per_day / "out" / "grades.json").read_text())
    assert book["deadline"]["policy"] == "per_day" and book["deadline"]["due"] == DUE
    mine = book["deadline"]["submissions"]["late1"]
    assert (mine["raw_total"], mine["total"], mine["source"]) == (5.0, 4.5, str(per_day / "times.csv"))


@pytest.mark.slow
def test_every_export_counts_the_adjusted_score_beside_the_raw(per_day, tmp_path) -> None:
    cwd = Path.cwd()
    os.chdir(per_day / "course")
    try:
        for to in ("csv", "canvas", "gradescope"):
            args = [
                "export",
                str(per_day / "out" / "grades.json"),
                "--to",
                to,
                "--output",
                str(tmp_path / to),
            ]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
    finally:
        os.chdir(cwd)
    plain = {r["id"]: r for r in read_csv(tmp_path / "csv")}
    assert (plain["late3"]["score"], plain["late3"]["raw_score"], plain["late3"]["percent"]) == (
        "3.5",
        "5",
        "70",
    )
    assert plain["late3"]["days_late"] == "3" and plain["late3"]["penalty_percent"] == "30"
    assert plain["ontime"]["score"] == plain["ontime"]["raw_score"] == "5"
    gradescope = {r["Email"]: r for r in read_csv(tmp_path / "gradescope")}
    assert gradescope["own@x.edu"]["Total Score"] == "4"  # 20% off, from its own due date
    canvas = (tmp_path / "canvas").read_text()
    assert "raw" not in canvas.lower()  # Canvas would read a raw column as another assignment


@pytest.mark.slow
def test_feedback_says_how_late_and_keeps_hidden_checks_hidden(per_day) -> None:
    late3 = (per_day / "fb" / "late3.md").read_text()
    assert "3 day\\(s\\) late, 30% off" in late3 and "3.5 of 5 points count" in late3
    assert "on time" in (per_day / "fb" / "ontime.md").read_text()
    naive = (per_day / "fb" / "naive.md").read_text()
    book = json.loads((per_day / "out" / "grades.json").read_text())
    revealed = next(r["revealed"] for r in book["rows"] if r["id"] == "naive")[EXERCISE]
    assert len(revealed) == 2  # stable_softmax's two hidden checks, both failed
    for name, message in revealed.items():
        assert f"hidden check “{escape(name)}”" in naive
        assert escape(message) not in naive
    assert "due date has passed" not in naive


@pytest.mark.slow
def test_after_the_due_date_feedback_reveals_the_hidden_checks(per_day) -> None:
    """Rerun with --since: nothing regraded, the hidden checks' messages come from the gradebook."""
    out = per_day / "out"
    result = _batch(
        per_day / "course",
        *(
            str(per_day / "subs"),
            EXERCISE,
            "--csv",
            str(out / "again.csv"),
            "--since",
            str(out / "grades.json"),
        ),
        *("--submitted-at", str(per_day / "times.csv"), "--roster", str(per_day / "roster.csv")),
        *("--feedback", str(per_day / "shown"), "--reveal-hidden"),
    )
    assert result.exit_code == 0, result.output
    assert f"{len(TIMES)} kept" in result.stderr
    book = json.loads((out / "grades.json").read_text())
    revealed = next(r["revealed"] for r in book["rows"] if r["id"] == "naive")[EXERCISE]
    naive, page = (per_day / "shown" / "naive.md").read_text(), (per_day / "shown" / "naive.html").read_text()
    assert "The due date has passed: the 2 hidden checks are shown" in naive
    assert "hidden check “" not in naive and 'class="hidden"' not in page
    for name, message in revealed.items():
        assert f"{escape(name)}: {escape(message)}" in naive
        assert name in page
    assert read_csv(out / "again.csv") == read_csv(out / "grades.csv")


@pytest.mark.slow
def test_times_from_a_roster_column_or_the_files(per_day, tmp_path) -> None:
    out = per_day / "out"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,submitted_at\n" + "".join(f"{k},2026-01-12T00:00:00Z\n" for k in TIMES))
    since = ("--since", str(out / "grades.json"))
    subs = str(per_day / "subs")
    result = _batch(
        per_day / "course", subs, EXERCISE, "--csv", str(tmp_path / "r.csv"), *since, "--roster", str(roster)
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "r.csv")
    assert {(r["days_late"], r["penalty_percent"]) for r in rows} == {("2", "20")}
    book = json.loads((tmp_path / "r.json").read_text())
    assert {x["source"] for x in book["deadline"]["submissions"].values()} == {"roster"}
    stamp = datetime(2026, 1, 13, 12, tzinfo=UTC).timestamp()  # 2.5 days late: 3 days
    for path in (per_day / "subs").rglob("*"):
        os.utime(path, (stamp, stamp))
    result = _batch(per_day / "course", subs, EXERCISE, "--csv", str(tmp_path / "f.csv"), *since)
    assert result.exit_code == 0, result.output
    assert {r["penalty_percent"] for r in read_csv(tmp_path / "f.csv")} == {"30"}
    assert {r["handed_in"] for r in read_csv(tmp_path / "f.csv")} == {"2026-01-13T12:00:00+00:00"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "expect"),
    [
        ('policy = "cutoff"\ncutoff_days = 2\n', {"late1": ("1", "0"), "late3": ("3", "100")}),
        ('policy = "none"\n', {"late1": ("1", "0"), "late3": ("3", "0")}),
    ],
)
def test_the_cutoff_and_none_policies(course: Course, tmp_path, policy, expect) -> None:
    root = _course(tmp_path, f'\n[deadline]\ndue = "{DUE}"\n{policy}')
    _submissions(course, tmp_path / "subs", expect)
    times = tmp_path / "times.csv"
    times.write_text("id,submitted_at\n" + "".join(f"{k},{TIMES[k][0]}\n" for k in expect))
    grades = tmp_path / "grades.csv"
    result = _batch(
        root,
        str(tmp_path / "subs"),
        EXERCISE,
        "--csv",
        str(grades),
        "--jobs",
        "1",
        "--submitted-at",
        str(times),
    )
    assert result.exit_code == 0, result.output
    for row in read_csv(grades):
        assert (row["days_late"], row["penalty_percent"]) == expect[row["id"]]
        assert row["total"] == _penalised(row["raw_total"], int(expect[row["id"]][1]))


# --- refusals and mistakes: one line, before any grading -------------------------------------


@pytest.fixture(scope="module")
def dated(course: Course, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("dated")
    _course(base, PER_DAY)
    _submissions(course, base / "subs", ["a"])
    return base


def _fails(dated: Path, *args: str, toml: str | None = None):
    if toml is not None:
        text = (dated / "course" / "course.toml").read_text()
        (dated / "course" / "course.toml").write_text(text.replace(PER_DAY, toml))
    try:
        return _batch(dated / "course", str(dated / "subs"), EXERCISE, "--csv", str(dated / "g.csv"), *args)
    finally:
        if toml is not None:
            (dated / "course" / "course.toml").write_text(text)


def test_reveal_is_refused_before_the_due_date(dated) -> None:
    result = _fails(
        dated, "--feedback", str(dated / "fb"), "--reveal-hidden", "--due", "2999-01-01T00:00:00Z"
    )
    _one_line_error(result, "refusing to reveal hidden checks before the due date", "--force-reveal")
    assert not (dated / "g.csv").exists() and not (dated / "fb").exists()


def test_reveal_waits_for_the_last_extension(dated, tmp_path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,extension_days\na,0\nslow,400000\n")  # the course's due date is long past
    result = _fails(dated, "--feedback", str(dated / "fb"), "--reveal-hidden", "--roster", str(roster))
    _one_line_error(result, "refusing to reveal", "extensions included")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--reveal-hidden"], "give --feedback DIR"),
        (["--force-reveal"], "--force-reveal goes with --reveal-hidden"),
        (["--due", "2026-01-10T23:59:00"], "no time zone"),
        (["--due", "2026-01-10"], "time of day"),
    ],
)
def test_reveal_and_due_mistakes(dated, args, says) -> None:
    _one_line_error(_fails(dated, *args), says)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id,submitted_at\na,2026-01-10T10:00:00\n", "no time zone"),
        ("id,submitted_at\na,2026-01-10\n", "time of day"),
        ("id,submitted_at\nb,2026-01-10T10:00:00Z\n", "no time for submission 'a'"),
        ("id,submitted_at\na,2026-01-10T10:00:00Z\na,2026-01-10T10:00:00Z\n", "appears twice"),
        ("id,when\na,2026-01-10T10:00:00Z\n", "'submitted_at' column"),
        ("id,submitted_at\na\n", "line 2 has 1 fields"),
        (b"\xff\xfe\x00", "not a readable CSV"),
    ],
)
def test_a_bad_submitted_at_file_is_one_line(dated, tmp_path, text, says) -> None:
    times = tmp_path / "times.csv"
    times.write_bytes(text if isinstance(text, bytes) else text.encode())
    _one_line_error(_fails(dated, "--submitted-at", str(times)), says)


def test_a_missing_submitted_at_file_is_one_line(dated, tmp_path) -> None:
    _one_line_error(_fails(dated, "--submitted-at", str(tmp_path / "none.csv")), "no such file")


@pytest.mark.parametrize(
    ("roster", "says"),
    [
        ("id,extension_days\na,-2\n", "must be at least 0"),
        ("id,extension_days\na,two\n", "not a number"),
        ("id,extension_days,due\na,1,2026-02-01T00:00:00Z\n", "both extension_days and due"),
        ("id,due\na,2026-02-01\n", "time of day"),
        ("id,submitted_at\na,\n", "no submitted_at for submission 'a'"),
        ("id,submitted_at\na,soon\n", "not an ISO 8601"),
    ],
)
def test_a_bad_roster_date_is_one_line(dated, tmp_path, roster, says) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    _one_line_error(_fails(dated, "--roster", str(path)), says)


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('\n[deadline]\ndue = "2026-01-10T23:59:00+01:00"\npolicy = "weekly"\n', "policy 'weekly'"),
        ("\n[deadline]\npolicy = 'none'\n", "'due'"),
    ],
)
def test_a_bad_deadline_in_the_course_is_one_line(dated, toml, says) -> None:
    _one_line_error(_fails(dated, toml=toml), says)


def test_submitted_at_needs_a_due_date(course: Course, tmp_path) -> None:
    (tmp_path / "course").mkdir()
    root = course_copy(tmp_path / "course")
    _submissions(course, tmp_path / "subs", ["a"])
    times = tmp_path / "t.csv"
    times.write_text("id,submitted_at\na,2026-01-10T10:00:00Z\n")
    result = _batch(
        root, str(tmp_path / "subs"), EXERCISE, "--csv", str(tmp_path / "g.csv"), "--submitted-at", str(times)
    )
    _one_line_error(result, "--submitted-at needs a due date")


def _shard(index: int, sid: str, deadline, penalty: int = 0):
    from dlgrade.batch.deadline import Late
    from dlgrade.batch.entries import Row
    from dlgrade.batch.gradebook import Gradebook

    at = parse_time("2026-01-12T00:00:00Z", "t")
    late = {sid: Late(at, parse_time(DUE, "t"), "test", Fraction(penalty))}
    rows = (Row(sid, "rejected", "no modules"),)
    return Gradebook(
        "c", ("a",), 5.0, rows, universe="u", submissions=2, shard=(index, 2), deadline=deadline, late=late
    )


def test_shards_merge_their_lateness_and_refuse_other_due_dates() -> None:
    from dlgrade.batch.gradebook import Gradebook, GradebookError, merge

    deadline = parse_deadline({"due": DUE, "policy": "cutoff"})
    merged = merge([_shard(1, "a", deadline, 100), _shard(2, "b", deadline)])
    assert set(merged.late) == {"a", "b"} and merged.late["a"].penalty == 100
    assert Gradebook.from_dict(json.loads(merged.json_text())) == merged
    other = parse_deadline({"due": "2026-01-11T23:59:00+01:00", "policy": "cutoff"})
    with pytest.raises(GradebookError, match="roster or due date"):
        merge([_shard(1, "a", deadline), _shard(2, "b", other)])
