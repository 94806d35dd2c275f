"""What reaches a person's terminal and spreadsheet, through the real `grade batch`, `grade
report` and `grade export`: hostile submission ids (file names), exercise messages, students'
prints and roster names carry terminal escapes and spreadsheet formulas; no control, escape or
invisible format character reaches stdout, stderr or a written report, and no CSV cell opens
as a formula whether the spreadsheet splits on `,` or on `;`."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from tests import submissions as subs
from tests.support import ROOT

GRADE = str(Path(sys.executable).with_name("grade"))
TOPIC = "stability"
# C0 but newline and tab, DEL, C1, bidirectional controls, zero-width and other format characters
CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u206f\ufeff]"
)
TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
NUMBER = re.compile(r"-?\d+(\.\d+)?")

ESCAPED_ID = "ada\x1b]52;c;ZGxncmFkZS1wd25lZA==\x07\x1b[2K\x1b[1A\u202eTotal 211"
FORMULA_ID = "bob;=2+5+cmd|' -C calc'!A0"
AT_ID = "@SUM(A1)"
EVIL_ID = "eve\x1b[2K"
REJECTED = "notes\x1b[2K\x1b[1A\rTotal 211.txt"
ROSTER = [
    ["id", "Name", "Email", "SIS User ID", "Section"],
    [ESCAPED_ID, "=cmd|' /C calc'!A0", "ada@example.edu", "1001", "A\x1b[31m"],
    [FORMULA_ID, "Bob;@SUM(1)", "bob@example.edu", "1002", "-2+3"],
    [AT_ID, "Carl, =1+1", "carl@example.edu", "1003", "-B"],
    [EVIL_ID, "Eve\u202e\u200b", "+eve@example.edu", "1004", "+C"],
]


def run(base: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real `grade` in the course, paths under `base`; its output as raw bytes (what a
    terminal would receive)."""
    env = {**os.environ, "COLUMNS": "200"}
    argv = [a.replace("BASE", str(base)) for a in args]
    return subprocess.run([GRADE, *argv], cwd=ROOT, env=env, capture_output=True, timeout=900)


def assert_clean(data: bytes | str, where: str) -> str:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    found = CONTROL.search(text)
    assert found is None, (
        f"{where}: {found.group()!r} reaches it: {text[max(found.start() - 60, 0) :][:120]!r}"
    )
    return text


@pytest.fixture(scope="module")
def graded(course: Course, tmp_path_factory) -> dict[str, subprocess.CompletedProcess[bytes]]:
    """One batch of hostile ids and a hostile roster; then report and export on its gradebook."""
    base = tmp_path_factory.mktemp("terminal")
    folder = base / "submissions"
    folder.mkdir()
    for name in (ESCAPED_ID, FORMULA_ID, AT_ID):
        subs.correct(course, folder, name)
    subs.hostile_code(course, folder, EVIL_ID, "terminal_escapes")
    (folder / REJECTED).write_text("not a submission\n")
    roster = io.StringIO()
    csv.writer(roster).writerows(ROSTER)
    (base / "roster.csv").write_text(roster.getvalue(), encoding="utf-8")
    done = {}
    done["batch"] = run(
        base, "batch", "BASE/submissions", TOPIC, "--csv", "BASE/grades.csv", "--roster", "BASE/roster.csv",
        "--feedback", "BASE/fb", "--jobs", "2",
    )  # fmt: skip
    assert done["batch"].returncode == 0, done["batch"].stderr.decode(errors="replace")
    for fmt in ("table", "markdown", "html", "junit", "gradescope"):
        done[f"report {fmt}"] = run(base, "report", "BASE/grades.json", "--id", EVIL_ID, "--format", fmt)
    done["report id"] = run(base, "report", "BASE/grades.json", "--id", ESCAPED_ID)
    for target in ("canvas", "gradescope", "csv"):
        done[f"export {target}"] = run(
            base, "export", "BASE/grades.json", "--to", target, "--output", f"BASE/{target}.csv"
        )
    done["missing"] = run(base, "report", "BASE/missing\x1b[2K\u202e.json")
    done["base"] = subprocess.CompletedProcess([], 0, str(base).encode(), b"")
    return done


def test_no_control_character_reaches_stdout_or_stderr(graded) -> None:
    for name, done in graded.items():
        assert done.returncode == (2 if name == "missing" else 0), (name, done.stderr)
        assert_clean(done.stdout, f"{name}: stdout")
        assert_clean(done.stderr, f"{name}: stderr")
    stderr = graded["batch"].stderr.decode()
    assert "notes␛[2K␛[1A␍Total 211.txt: rejected" in stderr  # shown, not acted on
    left_out = graded["export canvas"].stderr.decode()
    assert "left out 1 submission(s) the roster does not identify: notes␛[2K␛[1A␍Total 211.txt" in left_out
    assert "missing␛[2K\ufffd.json" in graded["missing"].stderr.decode()  # a one-line usage error


def test_a_fake_total_stays_inside_its_line(graded) -> None:
    table = graded["report table"].stdout.decode()
    totals = [line for line in table.splitlines() if line.startswith("Total")]
    assert len(totals) == 1 and "211" not in totals[0]  # the real total, alone at a line start
    assert "␛]52;c;" in table and "Total 211/211" in table  # the attempt, visibly
    assert not any(line.startswith("Total 211") for line in table.splitlines())
    by_id = graded["report id"].stdout.decode()
    # the id shown in the title line (rich itself drops BEL, backspace, form feeds and CR)
    assert "ada␛]52;c;ZGxncmFkZS1wd25lZA==␛[2K␛[1A\ufffdTotal 211" in by_id.splitlines()[0]


def test_written_reports_hold_no_control_character(graded) -> None:
    base = Path(graded["base"].stdout.decode())
    sheets = [base / f"{name}.csv" for name in ("grades", "canvas", "gradescope", "csv")]
    written = [*sheets, base / "grades.json", *(base / "fb").iterdir()]
    assert len(list((base / "fb").iterdir())) == 10  # .md and .html for each of 5 submissions
    for path in written:
        assert_clean(path.read_bytes(), str(path.relative_to(base)))
    feedback = (base / "fb" / f"{EVIL_ID}.md").read_text()
    assert "␛\\]52;c;ZGxncmFkZS1wd25lZA==␇" in feedback  # Markdown-escaped, and visible


def formula_starts(text: str, delimiter: str) -> list[str]:
    """Every piece of a cell, split as a spreadsheet with this list separator would, that starts a
    formula: nothing may, but our own numbers."""
    bad = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for field in row:
            for piece in re.split("[,;]", field):
                piece = piece.lstrip(" ")
                if piece[:1] in TRIGGERS and piece and not NUMBER.fullmatch(piece):
                    bad.append(field)
    return bad


def test_no_csv_cell_opens_as_a_formula_with_either_separator(graded) -> None:
    base = Path(graded["base"].stdout.decode())
    sheets = {p.name: p.read_text(encoding="utf-8") for p in (base / "grades.csv", *base.glob("*.csv"))}
    assert set(sheets) == {"grades.csv", "canvas.csv", "gradescope.csv", "csv.csv", "roster.csv"}
    del sheets["roster.csv"]  # the input
    for name, text in sheets.items():
        for delimiter in ",;":
            assert formula_starts(text, delimiter) == [], (name, delimiter)
        assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines()), name
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(sheets["grades.csv"], newline=""))}
    assert rows["bob;'=2+5+cmd|' -C calc'!A0"]["Name"] == "Bob;'@SUM(1)"
    assert rows["'@SUM(A1)"]["Section"] == "'-B" and rows["'@SUM(A1)"]["Name"] == "Carl, '=1+1"
    assert rows["'@SUM(A1)"]["total"] == rows["'@SUM(A1)"]["max_score"]  # numbers stay numbers
    canvas = list(csv.DictReader(io.StringIO(sheets["canvas.csv"], newline="")))
    assert {r["Student"] for r in canvas} >= {"'=cmd|' /C calc'!A0", "Eve\ufffd\ufffd"}


def test_printable_maps_one_character_to_one() -> None:
    from dlgrade.core.printable import lines, printable

    text = "a\x1b[2K\x07\x7f\x85\x9b\u202e\u2066\u200b\ufeff\u2028\ud800\n\tz é 世 ✓"
    shown = printable(text)
    assert len(shown) == len(text) and CONTROL.search(shown) is None
    assert shown.startswith("a␛[2K␇␡") and shown.endswith("␊␉z é 世 ✓")
    assert lines(text).endswith("\n\tz é 世 ✓") and printable("plain text") == "plain text"


def test_cells_are_neutralised_for_both_separators() -> None:
    from dlgrade.core.sheets import cell, csv_text

    assert cell("=1+2") == "'=1+2" and cell("\uff1dcmd") == "'\uff1dcmd" and cell("  @x") == "  '@x"
    assert cell("bob;=2+5") == "bob;'=2+5" and cell("a, -b") == "a, '-b" and cell("x=1") == "x=1"
    assert cell("-1.5") == "-1.5" and cell("-1+2") == "'-1+2" and cell("\tx") == "'␉x"
    assert csv_text([["a", "=b"], ["1", ""]]) == '"a","\'=b"\n"1",""\n'


def test_the_colored_table_and_notebook_feedback_show_escapes() -> None:
    from dlgrade.core.result import CheckResult, ExerciseResult, GradeResult
    from dlgrade.notebook.cells import notebook_report
    from dlgrade.report.table import render_table

    evil = "\x1b]52;c;eA==\x07\x1b[1A\nTotal 211/211"
    check = CheckResult("c", "public", False, 0.0, 1.0, evil, "failed", hint="h")
    exercise = ExerciseResult("e", "t", "failed", 0.0, 1.0, (check,), message=evil)
    colored = render_table(GradeResult((exercise,), course="c", submission=evil), color=True)
    assert "\x1b[" in colored  # rich's own colors stay
    assert CONTROL.search(re.sub("\x1b\\[[0-9;]*m", "", colored)) is None and "␛]52" in colored
    assert [line for line in colored.splitlines() if line.startswith("Total 211")] == []
    assert CONTROL.search(notebook_report(exercise)) is None  # nbgrader's feedback cells
