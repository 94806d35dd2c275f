"""The course secret: it salts hidden checks' inputs only, and it never leaves the course."""

from __future__ import annotations

import shutil
import stat

import pytest
import torch
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core import secret
from dlgrade.core.manifest import Course
from dlgrade.core.secret import hidden_inputs
from dlgrade.engine.runner import grade
from dlgrade.kit.cases import random_cases, seed_for, sizes
from tests.support import ROOT
from tests.test_release import every_text


def inputs() -> tuple[int, list[torch.Tensor], list[dict[str, int]]]:
    cases = [c.args[0] for c in random_cases("logsumexp/hidden", 3)]
    return seed_for("logsumexp", "hidden"), cases, sizes("bqd", 4, seed=seed_for("einsum/larger"))


def same(a, b) -> bool:
    return a[0] == b[0] and a[2] == b[2] and all(torch.equal(x, y) for x, y in zip(a[1], b[1], strict=True))


def test_hidden_inputs_depend_on_the_secret_and_public_ones_do_not() -> None:
    public = inputs()
    with hidden_inputs("one"):
        one = inputs()
    with hidden_inputs("two"):
        two = inputs()
    with hidden_inputs("one"):
        again = inputs()
    assert same(one, again) and not same(one, two)
    assert one[0] != public[0] and not any(torch.equal(x, y) for x, y in zip(one[1], public[1], strict=True))
    assert same(inputs(), public)  # outside a hidden check, nothing changed
    with hidden_inputs(None):  # no secret: the words' own seeds, as before
        assert inputs()[0] == public[0]


def test_hidden_sizes_are_salted_and_keep_the_contract() -> None:
    public = sizes("bqd", 6, seed=12345, high=11)
    with hidden_inputs("one"):
        one = sizes("bqd", 6, seed=12345, high=11)
        assert sizes("bqd", 6, seed=12345, high=11) == one
    with hidden_inputs("two"):
        two = sizes("bqd", 6, seed=12345, high=11)
    assert one != public and one != two
    with hidden_inputs(None):  # no secret: the words' own seeds, as before
        assert sizes("bqd", 6, seed=12345, high=11) == public
    for drawn in (one, two):
        assert all(len(set(d.values())) == 3 and all(2 <= v <= 11 for v in d.values()) for d in drawn)


def test_the_model_solutions_pass_under_any_secret(course: Course, monkeypatch) -> None:
    names = ["matvec", "attention", "logsumexp", "batchnorm_backward"]
    for value in ("one", "two"):
        monkeypatch.setenv(secret.ENV, value)
        result = grade(course, course.reference_dir(), names)
        assert result.score == result.max_score and result.notices == ()
        assert "notices" not in result.to_dict()
    monkeypatch.delenv(secret.ENV)
    monkeypatch.setenv(secret.FILE_ENV, "")
    result = grade(course, course.reference_dir(), names)
    assert result.score == result.max_score
    assert result.to_dict()["notices"] == [secret.NOTICE]


def test_dev_secret_makes_a_private_file_once(tmp_path, monkeypatch) -> None:
    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(secret.ENV, raising=False)
    made = CliRunner().invoke(main, ["dev", "secret"])
    assert made.exit_code == 0, made.output
    path = tmp_path / secret.FILE_NAME
    assert made.stdout.strip() == str(path) and stat.S_IMODE(path.stat().st_mode) == 0o600
    value = path.read_text().strip()
    assert len(value) == 64 and secret.load(tmp_path) == value
    again = CliRunner().invoke(main, ["dev", "secret"])
    assert again.exit_code == 2 and "exists already" in again.output and path.read_text().strip() == value
    monkeypatch.setenv(secret.ENV, "from-the-environment")
    assert secret.load(tmp_path) == "from-the-environment"
    monkeypatch.delenv(secret.ENV)
    monkeypatch.setenv(secret.FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(secret.SecretError, match="does not exist"):
        secret.load(tmp_path)


@pytest.mark.slow
def test_a_release_carries_neither_the_secret_nor_a_hidden_draw(tmp_path, monkeypatch) -> None:
    course_copy = tmp_path / "course"
    course_copy.mkdir()
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course_copy / name)
    monkeypatch.chdir(course_copy)
    monkeypatch.delenv(secret.ENV, raising=False)
    assert CliRunner().invoke(main, ["dev", "secret"]).exit_code == 0
    value = secret.load(course_copy)
    assert value is not None
    built = CliRunner().invoke(main, ["release", str(tmp_path / "out")])
    assert built.exit_code == 0, built.output
    texts = every_text(tmp_path / "out")
    assert not [name for name, text in texts.items() if value in text or secret.FILE_NAME in name]
