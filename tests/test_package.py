"""`grade package` and `grade verify`: the round trip holds, and a tampered package is caught."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from tests.gradings import share_gradings
from tests.shared import Shared
from tests.support import ROOT, variant, with_appended


@pytest.fixture
def runner(monkeypatch, shared: Shared) -> CliRunner:
    """The CLI in the course; the engine's grading of the same modules is made once a session
    (tests/gradings.py): `package`, `verify` (of the package and of its forgeries that keep its
    modules) and `--submission` grade the same bytes."""
    monkeypatch.chdir(ROOT)
    share_gradings(shared, monkeypatch)
    return CliRunner()


@pytest.fixture(scope="module")
def packaged(course: Course, shared: Shared, tmp_path_factory) -> tuple[Path, Path]:
    """A package of a partly wrong submission (stable_softmax loses points): (zip, submission folder)."""
    base = tmp_path_factory.mktemp("packaged")
    naive = variant("stability", "naive_softmax")
    folder = with_appended(course, naive.module, naive.path, base / "sub")
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        share_gradings(shared, mp)
        args = ["package", "--submission", str(folder), "--output", str(base / "pkg.zip")]
        result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(base / "pkg.zip")  # the path, alone on stdout
    return base / "pkg.zip", folder


def rewrite(src: Path, dest: Path, changes: dict[str, bytes]) -> Path:
    """A copy of the zip `src` with some members' contents replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, changes.get(info.filename, zin.read(info)))
    return dest


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_package_holds_modules_result_and_manifest(packaged, course: Course) -> None:
    pkg, folder = packaged
    files = members(pkg)
    assert set(files) == {"manifest.json", "result.json", *(f"submission/{m}.py" for m in course.modules)}
    assert files["submission/stability.py"] == (folder / "stability.py").read_bytes()
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"] == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items() if name != "manifest.json"
    }
    import platform

    import torch

    assert manifest["torch_version"] == torch.__version__
    assert manifest["python_version"] == platform.python_version()
    assert manifest["dlgrade_version"]
    assert datetime.fromisoformat(manifest["created_utc"]).utcoffset().total_seconds() == 0
    scores = {e["id"]: e["score"] for e in json.loads(files["result.json"])["exercises"]}
    assert scores["stable_softmax"] < 5 and scores["logsumexp"] == scores["log_softmax"] == 5


def test_verify_round_trip(packaged, runner: CliRunner) -> None:
    pkg, _ = packaged
    result = runner.invoke(main, ["verify", str(pkg), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "verified: every claimed score matches" in result.stderr
    claimed = json.loads(members(pkg)["result.json"])
    regrade = json.loads(result.stdout)
    assert [(e["id"], e["score"]) for e in regrade["exercises"]] == [
        (e["id"], e["score"]) for e in claimed["exercises"]
    ]


@pytest.mark.slow  # a whole-course grading; test_verify_round_trip regrades a package in the fast tier
def test_a_package_is_a_submission(packaged, runner: CliRunner) -> None:
    pkg, _ = packaged
    result = runner.invoke(main, ["--submission", str(pkg), "--format", "json"])
    assert result.exit_code == 0, result.output
    claimed = json.loads(members(pkg)["result.json"])
    assert json.loads(result.stdout)["score"] == claimed["score"]


def _forged_result(pkg: Path) -> bytes:
    claim = json.loads(members(pkg)["result.json"])
    for e in claim["exercises"]:
        e["score"], e["status"] = e["max_score"], "passed"
    claim["score"] = claim["max_score"]
    return json.dumps(claim).encode()


def test_an_edited_result_is_caught(packaged, runner: CliRunner, tmp_path) -> None:
    pkg, _ = packaged
    forged = rewrite(pkg, tmp_path / "forged.zip", {"result.json": _forged_result(pkg)})
    result = runner.invoke(main, ["verify", str(forged)])
    assert result.exit_code == 1, result.output
    assert "integrity: result.json: changed after packaging" in result.stderr
    assert "differs: stable_softmax: claimed 5/5, regraded" in result.stderr
    assert "differs: logsumexp" not in result.stderr  # only the exercise whose claim is false
    assert "NOT verified" in result.stderr


@pytest.mark.slow  # a whole-course regrade; the fast tier catches an edited result by its digest
def test_an_edited_result_with_a_forged_manifest_is_caught_by_the_regrade(
    packaged, runner: CliRunner, tmp_path
) -> None:
    pkg, _ = packaged
    forged_result = _forged_result(pkg)
    manifest = json.loads(members(pkg)["manifest.json"])
    manifest["files"]["result.json"] = hashlib.sha256(forged_result).hexdigest()
    forged = rewrite(
        pkg,
        tmp_path / "forged.zip",
        {"result.json": forged_result, "manifest.json": json.dumps(manifest).encode()},
    )
    result = runner.invoke(main, ["verify", str(forged), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert "integrity:" not in result.stderr
    assert "differs: stable_softmax" in result.stderr
    regraded = {e["id"]: e["score"] for e in json.loads(result.stdout)["exercises"]}
    assert regraded["stable_softmax"] < 5  # the regrade is the score that counts


@pytest.mark.slow  # a whole-course regrade; the fast tier catches an edited result by its digest
def test_a_module_swapped_after_packaging_is_caught(packaged, runner: CliRunner, course, tmp_path) -> None:
    pkg, _ = packaged
    model = (course.reference_dir() / "stability.py").read_bytes()
    swapped = rewrite(pkg, tmp_path / "swapped.zip", {"submission/stability.py": model})
    result = runner.invoke(main, ["verify", str(swapped)])
    assert result.exit_code == 1, result.output
    assert "integrity: submission/stability.py: changed after packaging" in result.stderr
    assert "differs: stable_softmax" in result.stderr  # the claim is now lower than the regrade


@pytest.mark.parametrize("kind", ["missing", "not-a-zip", "no-manifest", "unsafe"])
def test_verify_refuses_what_is_not_a_package(runner: CliRunner, tmp_path, kind: str) -> None:
    from tests.archives import no_modules, not_a_zip, traversal

    path = {
        "missing": lambda: tmp_path / "nothing.zip",
        "not-a-zip": lambda: not_a_zip(tmp_path, tmp_path / "x"),
        "no-manifest": lambda: no_modules(tmp_path, tmp_path / "x"),
        "unsafe": lambda: traversal(tmp_path, tmp_path / "escaped.txt"),
    }[kind]()
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    assert not (tmp_path / "escaped.txt").exists()


def test_package_into_a_missing_folder_exits_2(runner: CliRunner, tmp_path) -> None:
    result = runner.invoke(main, ["package", "--output", str(tmp_path / "no" / "such" / "pkg.zip")])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "no").exists()
