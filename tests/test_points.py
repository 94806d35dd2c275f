"""Points are exact: shares as fractions, rounded once to two decimals, and every channel states
the same total for one submission (docs/grading.md, "Points")."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from dlgrade.batch.entries import Row
from dlgrade.batch.export import plain
from dlgrade.batch.gradebook import Gradebook
from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult, points, points_sum, points_text, score_text
from dlgrade.nbgrader.autograde import cell_grade
from dlgrade.report import FORMATS
from dlgrade.report.gradescope import gradescope_document
from dlgrade.report.json_report import read_result
from dlgrade.report.table import render_table
from tests.support import append, variant, with_appended

GRADE = [sys.executable, "-m", "dlgrade"]


def test_points_round_once_to_two_decimals() -> None:
    assert points_text(12.083400000000001) == "12.08"
    assert points_text(2.5001) == "2.5" and points_text(5.0) == "5" and points_text(-0.001) == "0"
    assert points(Fraction(5, 3)) == 1.67 and points(Fraction(10, 3)) == 3.33
    assert points(Fraction(9, 8)) == 1.13 and points(2.675) == 2.68 and points(-1.125) == -1.13
    assert points_sum([0.1, 0.2]) == 0.3 != 0.1 + 0.2  # the decimal values, not float noise
    assert points_sum([Fraction(5, 3)] * 3) == 5.0 and score_text(1.5, 2.0) == "1.5/2"


def _decimals(x: float) -> int:
    text = repr(x)
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


@pytest.fixture(scope="module")
def graded(course: Course, tmp_path_factory) -> tuple[GradeResult, str]:
    """A partial submission graded by a real `grade`: its JSON result and its table."""
    wrong = variant("stability", "clip_each_by_own_norm")
    folder = with_appended(course, wrong.module, wrong.path, tmp_path_factory.mktemp("partial"))
    tanh = variant("activations", "naive_tanh")
    append(course, folder / f"{tanh.module}.py", tanh.path)
    out = tmp_path_factory.mktemp("out") / "result.json"
    args = ["stability", "activations", "--submission", str(folder), "--format", "json", "--output", str(out)]
    run = subprocess.run([*GRADE, *args], cwd=course.root, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return read_result(out), run.stdout


def test_every_channel_states_the_same_total(graded: tuple[GradeResult, str]) -> None:
    result, table = graded
    doc = result.to_dict()
    partial = [e for e in result.exercises if 0 < e.score < e.max_score]
    assert len(partial) >= 2  # shares that are not whole numbers
    total = score_text(result.score, result.max_score)
    # JSON: exercise scores of at most two decimals that sum exactly to the stated total
    assert all(_decimals(e["score"]) <= 2 for e in doc["exercises"])
    assert points_sum(e["score"] for e in doc["exercises"]) == doc["score"] == result.score
    assert re.search(rf"^Total {re.escape(total)} \(", table, re.M), table
    assert render_table(result).count(f"Total {total} (") == 1
    assert f"Points {total}" in FORMATS["markdown"](result)
    assert f"Points <b>{total}</b>" in FORMATS["html"](result)
    root = ET.fromstring(FORMATS["junit"](result).encode())
    suites = [
        p.get("value", "").split("/")
        for p in root.iterfind("./testsuite/properties/property[@name='points']")
    ]
    assert len(suites) == 2 and all(_decimals(float(got)) <= 2 for got, _ in suites)
    assert (
        score_text(points_sum(float(g) for g, _ in suites), points_sum(float(m) for _, m in suites)) == total
    )
    assert gradescope_document(result)["score"] == result.score
    gs = gradescope_document(result, hidden_until_due=True)  # Gradescope adds up the tests
    assert all(_decimals(t["score"]) <= 4 for t in gs["tests"])
    assert sum(Fraction(repr(t["score"])) for t in gs["tests"]) == Fraction(repr(result.score))
    # nbgrader: one check cell per exercise, worth the exercise's points
    cells = [cell_grade(e, e.max_score).points for e in result.exercises]
    assert all(_decimals(p) <= 2 for p in cells) and points_sum(cells) == result.score
    # the gradebook's CSV and the plain export
    book = Gradebook(
        "c",
        tuple(e.id for e in result.exercises),
        result.max_score,
        (Row("s1", "graded", result=result),),
        "u",
        1,
    )
    sheet = next(csv.DictReader(io.StringIO(book.csv_text())))
    assert sheet["total"] == points_text(result.score) and sheet["max_score"] == points_text(result.max_score)
    assert all(sheet[e.id] == points_text(e.score) for e in result.exercises)
    exported = next(csv.DictReader(io.StringIO(plain(book, "a").text)))
    assert f"{exported['score']}/{exported['max_score']}" == total
    assert json.loads(json.dumps(doc))["score"] == float(points_text(result.score))


def test_no_check_share_shows_rounding_noise(graded: tuple[GradeResult, str]) -> None:
    result, table = graded
    for e in result.exercises:
        assert all(_decimals(c.max_score) <= 4 for c in e.checks)
        # the exact shares add up to the exercise's points (at most rounding of each to 4 decimals)
        assert abs(sum(c.max_score for c in e.checks) - e.max_score) < 1e-4 * len(e.checks)
    numbers = re.findall(r"\b(\d+\.\d+)/\d", table)
    assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers)
