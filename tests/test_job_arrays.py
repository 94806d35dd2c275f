"""The Slurm and Kubernetes templates, run for real on this machine: each shard's script body
with the variables its runner would set, then the merge step; the merged gradebook equals an
unsharded `grade batch` row for row. And `grade batch` reading its shard from those variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dlgrade.batch.entries import BatchError, shard_from_env
from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from tests.batches import TOPIC, small_class
from tests.shared import Shared
from tests.support import ROOT

BIN = Path(sys.executable).parent
TEMPLATES = ROOT / "templates"


def rows(path: Path) -> list[dict]:
    """The gradebook's rows, comparable across runs (timings left out)."""
    out = []
    for row in json.loads(path.read_text())["rows"]:
        result = row["result"]
        points = None if result is None else [(e["id"], e["score"]) for e in result["exercises"]]
        out.append((row["id"], row["status"], row["reason"], row["digest"], points))
    return out


def run(script: str, env: dict[str, str], cwd: Path) -> None:
    full = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **env}
    done = subprocess.run(
        ["bash", "-c", script], env=full, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def small_batch(course: Course, shared: Shared) -> tuple[Path, list]:
    """(submissions folder, the rows of an unsharded run over it): the model solution, a known
    mistake, the stubs and a file that is no submission, graded once a session by `grade batch`
    (tests/batches.py, which tests/test_gradebooks.py reads too)."""
    base = small_class(shared, course)
    return base / "submissions", rows(base / "grades.json")


@pytest.mark.slow
def test_slurm_array_and_dependent_merge_equal_an_unsharded_run(small_batch, tmp_path) -> None:
    folder, unsharded = small_batch
    shards = tmp_path / "shards"
    common = {"COURSE": str(ROOT), "SUBMISSIONS": str(folder), "SHARDS": str(shards), "NAMES": TOPIC}
    body = (TEMPLATES / "slurm/grade.sbatch").read_text()
    for task in (1, 2):  # as `sbatch --array=1-2` would set them
        slurm = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2"}
        run(body, {**common, **slurm, "SLURM_CPUS_PER_TASK": "1", "SLURM_SUBMIT_DIR": str(ROOT)}, tmp_path)
    assert sorted(p.name for p in shards.glob("*.json")) == ["grades-1.json", "grades-2.json"]
    merge = {k: v for k, v in common.items() if k in ("COURSE", "SHARDS")}
    course_copy = tmp_path / "course"  # merge writes grades.csv into COURSE: use a copy
    course_copy.mkdir()
    run((TEMPLATES / "slurm/merge.sbatch").read_text(), {**merge, "COURSE": str(course_copy)}, tmp_path)
    assert rows(course_copy / "grades.json") == unsharded
    submit = (TEMPLATES / "slurm/submit.sh").read_text()
    assert "sbatch --parsable --array=" in submit and '--dependency="afterok:' in submit


def _container(path: Path) -> tuple[dict, dict, str]:
    job = yaml.safe_load(path.read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["command"][:2] == ["/bin/bash", "-c"]
    return job, env, container["command"][2]


@pytest.mark.slow
def test_kubernetes_indexed_job_and_merge_equal_an_unsharded_run(small_batch, tmp_path) -> None:
    folder, unsharded = small_batch
    job, env, body = _container(TEMPLATES / "kubernetes/grade-job.yaml")
    assert job["spec"]["completionMode"] == "Indexed"
    assert env["DLGRADE_SHARD_COUNT"] == str(job["spec"]["completions"])
    shards = tmp_path / "shards"
    here = {"SUBMISSIONS": str(folder), "SHARDS": str(shards), "NAMES": TOPIC, "DLGRADE_SHARD_COUNT": "2"}
    for index in (0, 1):  # a Job with completions: 2 gives its pods these indices
        run(body.replace("--jobs 4", "--jobs 1"), {**env, **here, "JOB_COMPLETION_INDEX": str(index)}, ROOT)
    _, merge_env, merge_body = _container(TEMPLATES / "kubernetes/merge-job.yaml")
    run(merge_body, {**merge_env, "SHARDS": str(shards), "OUT": str(tmp_path)}, ROOT)
    assert rows(tmp_path / "grades.json") == unsharded


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8"}, ((3, 8), "SLURM_ARRAY_TASK_ID")),
        (
            {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"},
            ((1, 4), "SLURM_ARRAY_TASK_ID"),
        ),
        ({"JOB_COMPLETION_INDEX": "7", "DLGRADE_SHARD_COUNT": "8"}, ((8, 8), "JOB_COMPLETION_INDEX")),
    ],
)
def test_the_shard_comes_from_the_array_runner(env: dict[str, str], expected) -> None:
    assert shard_from_env(env) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JOB_COMPLETION_INDEX": "2"}, "DLGRADE_SHARD_COUNT"),
        ({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "8"}, "9/8"),
        ({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "8"}, "whole numbers"),
    ],
)
def test_bad_array_variables_are_one_line_usage_errors(
    env: dict[str, str], message: str, tmp_path, monkeypatch
) -> None:
    with pytest.raises(BatchError, match=message):
        shard_from_env(env)
    # `grade batch` in this process (CliRunner): a real `grade batch` process reads these
    # variables in the Slurm and Kubernetes tests above
    monkeypatch.chdir(ROOT)
    done = CliRunner().invoke(main, ["batch", str(tmp_path), "--csv", str(tmp_path / "g.csv")], env=env)
    assert done.exit_code == 2 and message in done.stderr.strip().splitlines()[-1]
