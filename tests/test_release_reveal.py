"""`grade release --reveal`: after the due date the bundle holds the hidden checks as public ones;
before it, one line and nothing built."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from dlgrade.release.reveal import RevealError, allow_publish, publish_hidden
from tests.courses import course_copy
from tests.support import ROOT, variant, with_appended

GRADE = str(Path(sys.executable).with_name("grade"))
GRADER = '''"""A grader."""
from dlgrade.kit.checks import check, check_each

H = 1


@check("f", "public one", points=1)
def test_public(student):
    pass


@check("f", "hidden one", points=2, hidden=True)
def test_hidden(student):
    pass


@check_each(("f", "g"), "hidden each", points=1, hidden=True)
def test_each(student, fn):
    pass


class TestGroup:
    @check("g", "hidden in a class", points=1, hidden=True)
    def test_in_class(self, student):
        pass
'''


def _hidden_flags(source: str) -> dict[str, bool]:
    """Each decorated function's `hidden=` value."""
    out = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            call = node.decorator_list[0]
            assert isinstance(call, ast.Call)
            flag = next((k.value for k in call.keywords if k.arg == "hidden"), ast.Constant(False))
            assert isinstance(flag, ast.Constant)
            out[node.name] = bool(flag.value)
    return out


def test_publishing_turns_exactly_the_hidden_checks_public() -> None:
    hidden = {"test_hidden", "test_each", "TestGroup.test_in_class"}
    before = _hidden_flags(GRADER)
    assert before == {"test_public": False, "test_hidden": True, "test_each": True, "test_in_class": True}
    out = publish_hidden(GRADER, hidden)
    assert _hidden_flags(out) == dict.fromkeys(before, False)
    assert out.splitlines()[1:] == GRADER.replace("hidden=True", "hidden=False").splitlines()


def test_publishing_only_some_leaves_the_others_hidden() -> None:
    out = publish_hidden(GRADER, {"test_each"})
    assert _hidden_flags(out) == {
        "test_public": False,
        "test_hidden": True,
        "test_each": False,
        "test_in_class": True,
    }


@pytest.mark.parametrize(
    ("source", "hidden", "says"),
    [
        (
            GRADER.replace("points=2, hidden=True", "points=2, hidden=H"),
            {"test_hidden"},
            "publish it by hand",
        ),
        (GRADER, {"test_nothing"}, "'test_nothing' is not a function"),
        (GRADER, {"test_public"}, "not made hidden by one `hidden=True`"),
    ],
)
def test_a_check_hidden_another_way_is_refused(source, hidden, says) -> None:
    with pytest.raises(RevealError, match=says):
        publish_hidden(source, hidden)


def test_publishing_waits_for_the_due_date() -> None:
    now = datetime(2026, 1, 10, tzinfo=UTC)
    allow_publish(now - timedelta(seconds=1), now)
    allow_publish(now, now)
    with pytest.raises(RevealError, match="before the due date"):
        allow_publish(now + timedelta(seconds=1), now)
    with pytest.raises(RevealError, match="needs a due date"):
        allow_publish(None, now)
    allow_publish(None, now, force=True)
    allow_publish(now + timedelta(days=9), now, force=True)


def _one_line_error(result, says: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--reveal"], "needs a due date"),
        (
            ["--reveal", "--due", "2999-01-01T00:00:00Z"],
            "refusing to publish hidden checks before the due date",
        ),
        (["--reveal", "--due", "2026-01-01"], "time of day"),
        (["--due", "2020-01-01T00:00:00Z"], "go with --reveal"),
        (["--force-reveal"], "go with --reveal"),
    ],
)
def test_release_reveal_mistakes_are_one_line(tmp_path, monkeypatch, args, says) -> None:
    (tmp_path / "course").mkdir()
    monkeypatch.chdir(course_copy(tmp_path / "course"))
    result = CliRunner().invoke(main, ["release", str(tmp_path / "bundle"), *args])
    _one_line_error(result, says)
    assert not (tmp_path / "bundle").exists()


@pytest.mark.slow
def test_a_revealed_bundle_grades_the_hidden_checks_as_public(course: Course, tmp_path) -> None:
    (tmp_path / "course").mkdir()
    root = course_copy(tmp_path / "course")
    with (root / "course.toml").open("a") as f:
        f.write('\n[deadline]\ndue = "2026-01-10T23:59:00+01:00"\npolicy = "none"\n')
    bundle = tmp_path / "bundle"
    built = subprocess.run(
        [GRADE, "release", str(bundle), "--reveal"], cwd=root, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    assert json.loads((bundle / "release.json").read_text())["hidden_checks"] == []
    assert "## Every check, the hidden ones included" in (bundle / "README.md").read_text()
    for grader in (bundle / "graders").glob("test_*.py"):
        assert "hidden=True" not in grader.read_text(), grader.name
    naive = variant("stability", "naive_softmax")
    submission = with_appended(course, naive.module, naive.path, tmp_path / "naive")
    args = [GRADE, "--submission", str(submission), "stable_softmax", "--format", "json"]
    graded = subprocess.run(args, cwd=bundle, capture_output=True, text=True)
    result = json.loads(graded.stdout)
    checks = {c["name"]: c for e in result["exercises"] for c in e["checks"]}
    hidden = [n for n, c in _course_checks().items() if c]
    assert hidden and all(n in checks for n in hidden)
    for name in hidden:  # the course's hidden checks, run here as public ones with their full message
        assert checks[name]["visibility"] == "public" and checks[name]["outcome"] == "failed", checks[name]
        assert "got nan" in checks[name]["message"]
    assert "deferred" not in result


def _course_checks() -> dict[str, bool]:
    """stable_softmax's checks in the course's grader: name -> hidden."""
    source = (ROOT / "graders" / "test_stability.py").read_text()
    out = {}
    for node in ast.parse(source).body:
        for d in getattr(node, "decorator_list", []):
            if isinstance(d, ast.Call) and d.args and getattr(d.args[0], "value", None) == "stable_softmax":
                flag = next((k.value for k in d.keywords if k.arg == "hidden"), None)
                out[str(getattr(d.args[1], "value", ""))] = (
                    isinstance(flag, ast.Constant) and flag.value is True
                )
    return out
