"""Fresh draws where grading counts: with a course secret, every check's random inputs are keyed
by it (dlgrade.core.secret.fresh_inputs), so a table of the answers one public run showed does
not score, while correct and known-wrong code get the same verdicts as without a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from dlgrade.core import secret
from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import ExerciseResult, GradeResult
from dlgrade.core.secret import fresh_inputs, hidden_inputs
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.engine.runner import grade
from dlgrade.kit.cases import random_cases, seed_for, sizes
from dlgrade.release.gradescope import build_autograder
from tests.rounds import graded_round, round_of
from tests.shared import Shared
from tests.support import ROOT, reference_copy, variants, with_appended

GRADE = str(Path(sys.executable).with_name("grade"))
TOPICS = [t.id for t in load_course(ROOT).topics]


def draws() -> tuple[int, list[torch.Tensor], list[dict[str, int]]]:
    cases = [c.args[0] for c in random_cases("logsumexp/random", 3)]
    return seed_for("logsumexp", "random"), cases, sizes("bqd", 4, seed=seed_for("einsum/public"))


def same(a, b) -> bool:
    return a[0] == b[0] and a[2] == b[2] and all(torch.equal(x, y) for x, y in zip(a[1], b[1], strict=True))


def test_fresh_draws_depend_on_the_secret_and_differ_from_the_hidden_ones() -> None:
    fixed = draws()
    with fresh_inputs("one"):
        one = draws()
        with hidden_inputs("one"):  # a hidden check inside a counted run keeps its own key
            hidden = draws()
    with fresh_inputs("two"):
        two = draws()
    with fresh_inputs("one"):
        again = draws()
    assert same(one, again) and not same(one, two) and not same(one, fixed)
    assert not same(hidden, one) and not same(hidden, fixed)
    with hidden_inputs("one"):
        assert same(draws(), hidden)  # the hidden key is the one hidden checks always had
    with fresh_inputs(None):  # no secret: the fixed draws the student sees
        assert same(draws(), fixed)
    assert same(draws(), fixed)


def lost(result: GradeResult | list[ExerciseResult]) -> set[str]:
    """The exercises that lose points."""
    exercises = result.exercises if isinstance(result, GradeResult) else result
    return {e.id for e in exercises if e.score < e.max_score}


def graded_with_a_secret(
    course: Course, folder: Path, topic: str, monkeypatch: pytest.MonkeyPatch
) -> GradeResult:
    monkeypatch.setenv(secret.ENV, "a course secret")
    fresh = grade(course, folder, [topic])
    monkeypatch.delenv(secret.ENV)
    assert secret.NOTICE not in fresh.notices and fresh.internal_errors == ()
    return fresh


SAMPLE = 4  # known-wrong files per topic graded both ways


def without_a_secret(result: GradeResult, course: Course, topic: str) -> list[ExerciseResult]:
    """The topic's exercises of a grading the session shares, made without a secret (its notice
    says so): the model solutions (`shared.reference`) or a known-wrong file's round
    (`graded_round`, each file's verdicts those it gets alone: tests/test_fixtures.py)."""
    assert secret.NOTICE in result.notices and result.internal_errors == ()
    ids = {e.id for e in course.topic(topic).exercises}
    return [e for e in result.exercises if e.id in ids]


@pytest.mark.slow
@pytest.mark.parametrize("topic", TOPICS)
def test_the_same_verdicts_with_and_without_a_secret(
    course: Course, topic: str, shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model solutions get full marks both ways, and each known-wrong file loses the same
    exercises both ways, those its `# loses:` line names. (Which of an exercise's checks catch
    a mistake may depend on the draw: a check with few random cases can miss one.) A fixed
    sample of each topic's known-wrong files, spread over the list: every file graded twice
    would add a quarter of an hour to the suite; each is graded without a secret elsewhere,
    and those gradings, shared by the session, are the side without a secret here."""
    fixed = without_a_secret(shared.reference(course), course, topic)
    fresh = graded_with_a_secret(course, course.reference_dir(), topic, monkeypatch)
    assert fixed and all(e.score == e.max_score for e in fixed)
    assert fresh.score == fresh.max_score
    module = course.topic(topic).module
    every = variants(module)
    for v in every[:: max(1, len(every) // SAMPLE)][:SAMPLE]:
        fixed = without_a_secret(graded_round(shared, course, round_of(v)), course, topic)
        folder = with_appended(course, v.module, v.path, tmp_path / v.path.stem)
        fresh = graded_with_a_secret(course, folder, topic, monkeypatch)
        assert lost(fixed) == lost(fresh) == set(v.loses), v.id


# --- a lookup table harvested from one run's public checks ------------------------------------

TABLE_CODE = """
import torch

_DTYPES = {"torch.float32": torch.float32, "torch.float64": torch.float64}


def _key(v):
    if isinstance(v, torch.Tensor):
        return repr(("t", str(v.dtype), tuple(v.shape), v.detach().cpu().reshape(-1).tolist()))
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_key(u) for u in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(repr(k) + ":" + _key(v[k]) for k in sorted(v)) + "}"
    return repr(v)


def _build(a):
    if a[0] == "t":
        return torch.tensor(a[3], dtype=_DTYPES[a[1]]).reshape(a[2])
    return tuple(_build(u) for u in a[1])
"""


def _plain(value: Any) -> Any:
    """An answer as JSON the table rebuilds with `_build`."""
    if isinstance(value, torch.Tensor):
        return ["t", str(value.dtype), list(value.shape), value.reshape(-1).tolist()]
    assert isinstance(value, tuple), type(value)
    return ["seq", [_plain(v) for v in value]]


def harvest(course: Course, fn: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `fn`'s public checks asked and the model solution answered, on the student's
    machine (no secret): every call the grading process sent and what came back."""
    namespace: dict[str, Any] = {}
    exec(TABLE_CODE, namespace)
    table: dict[str, Any] = {}
    interpret = ExerciseSandbox._interpret

    def recording(self: ExerciseSandbox, name: str, args: Any, kwargs: Any, *rest: Any) -> Any:
        call = interpret(self, name, args, kwargs, *rest)
        assert name == fn and kwargs == {}
        table[namespace["_key"](list(args))] = _plain(call.value)
        return call

    monkeypatch.delenv(secret.ENV, raising=False)
    with monkeypatch.context() as m:
        m.setattr(ExerciseSandbox, "_interpret", recording)
        result = grade(course, course.reference_dir(), [fn], visibility="public")
    hidden = sum(c.max_score for c in result.exercises[0].checks if c.visibility == "hidden")
    assert result.score == result.max_score - hidden
    return table


def lookup_table(course: Course, monkeypatch: pytest.MonkeyPatch, dest: Path) -> Path:
    """The model solutions with `jvp` replaced by memorised answers (garbage for anything else)."""
    table = harvest(course, "jvp", monkeypatch)
    folder = reference_copy(course, dest)
    target = folder / f"{course.exercise('jvp').module}.py"
    target.write_text(
        target.read_text()
        + TABLE_CODE
        + f"\n_TABLE = {table!r}\n\n\n"  # a literal: json is not among jvp's allowed functions
        + "def jvp(graph, x, v):\n"
        + "    hit = _TABLE.get(_key([graph, x, v]))\n"
        + "    if hit is None:\n"
        + "        return torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)\n"
        + "    return _build(hit)\n"
    )
    return folder


def graded_by_cli(folder: Path, secret_value: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in (secret.ENV, secret.FILE_ENV)}
    if secret_value is not None:
        env[secret.ENV] = secret_value
    done = subprocess.run(
        [GRADE, "jvp", "--submission", str(folder), "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return next(e for e in json.loads(done.stdout)["exercises"] if e["id"] == "jvp")


def test_a_lookup_table_of_public_answers_loses_them_at_grading_time(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = lookup_table(course, monkeypatch, tmp_path / "table")
    local = graded_by_cli(folder, None)
    public = [c for c in local["checks"] if c["visibility"] == "public"]
    assert public and all(c["passed"] for c in public), [c["message"] for c in public if not c["passed"]]
    counted = graded_by_cli(folder, "the course secret")
    lost = [c for c in counted["checks"] if c["visibility"] == "public" and not c["passed"]]
    # the random graphs are drawn afresh and the table misses them (the named graphs' directions
    # are drawn too, so those may go as well, and the inputs check earns only beside a passed one)
    assert any("random" in c["name"] for c in lost), lost
    assert counted["score"] < local["score"]


def test_the_gradescope_autograder_carries_the_secret_readable_by_root_only(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradescope grading counts: its zip (for Gradescope, never for students) holds the secret."""
    monkeypatch.setenv(secret.ENV, "the course secret")
    with zipfile.ZipFile(build_autograder(course, tmp_path / "ag.zip")) as zf:
        info = zf.getinfo(secret.FILE_NAME)
        assert zf.read(info).decode().strip() == "the course secret"
        assert (info.external_attr >> 16) & 0o777 == 0o600
    monkeypatch.delenv(secret.ENV)
    with zipfile.ZipFile(build_autograder(course, tmp_path / "plain.zip")) as zf:
        assert secret.FILE_NAME not in zf.namelist()
