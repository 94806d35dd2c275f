"""README's topic table comes from course.toml: `grade dev check` flags drift, `grade dev readme` fixes it."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course, load_course
from dlgrade.dev.check import static_problems
from dlgrade.dev.readme import BEGIN, END, topic_table
from tests.support import ROOT


def _course_copy(tmp_path):
    for name in ("course.toml", "README.md", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def test_the_readme_table_is_the_manifest_today(course: Course) -> None:
    text = (ROOT / "README.md").read_text()
    assert f"{BEGIN}\n{topic_table(course)}\n{END}" in text


def test_the_table_counts_every_topic_exercise_and_point(course: Course) -> None:
    table = topic_table(course)
    total = sum(e.points for e in course.exercises)
    assert table.startswith(
        f"{len(course.topics)} topics, {len(course.exercises)} exercises, {total:g} points"
    )
    for t in course.topics:
        assert f"| `{t.id}` | {t.title} | {len(t.exercises)} | {t.points:g} |" in table


def test_a_changed_manifest_is_flagged_and_rewritten(tmp_path, monkeypatch) -> None:
    root = _course_copy(tmp_path)
    toml = root / "course.toml"
    toml.write_text(
        toml.read_text().replace(
            'id = "logsumexp"\ntopic = "stability"\npoints = 5',
            'id = "logsumexp"\ntopic = "stability"\npoints = 7',
        )
    )
    found = [str(p) for p in static_problems(load_course(root))]
    assert found == ["README.md: the topic table is out of date with course.toml: run grade dev readme"]
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["dev", "readme"])
    assert result.exit_code == 0 and "rewritten" in result.output
    assert "| `stability` | Numerically stable reductions | 4 | 22 |" in (root / "README.md").read_text()
    assert static_problems(load_course(root)) == []
    again = CliRunner().invoke(main, ["dev", "readme"])
    assert again.exit_code == 0 and "already current" in again.output


def test_a_readme_without_the_block_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    root = _course_copy(tmp_path)
    (root / "README.md").write_text("# a course\n")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["dev", "readme"])
    assert result.exit_code == 1 and "no generated topic block" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_dev_check_wants_at_least_two_hint_tiers(tmp_path) -> None:
    root = _course_copy(tmp_path)
    toml = root / "course.toml"
    text = toml.read_text()
    start = text.index('id = "tanh_forward"')
    block_end = text.index("]\n", text.index("hints = [", start)) + 2
    block = text[start:block_end]
    toml.write_text(text[:start] + block[: block.index("hints = [")] + text[block_end:])
    found = [str(p) for p in static_problems(load_course(root))]
    assert found == [
        "course.toml::tanh_forward: needs at least two hint tiers: `hint` (a nudge), then `hints = [...]`"
    ]
