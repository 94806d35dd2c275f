"""One device worker per submission (DLGRADE_DEVICE_WORKER=submission, a GPU's default), on the CPU.

Real `grade` processes grade the same folders with a worker per exercise and with one device
worker serving the submission; the JSON documents are compared whole, less the run's duration.
The known mistakes' many folders are graded both ways in this process (`graded_here`, the
same engine call `grade` makes, the mode passed as DLGRADE_DEVICE_WORKER would pick it).
The device workers are counted by the grading process itself: a driver runs `grade` with the
sandbox's spawn wrapped to write one line to stderr per worker it asks the zygote for (a line
of the grading process, out of any worker's reach).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dlgrade.core.manifest import Course
from dlgrade.engine.runner import grade
from dlgrade.sandbox import pool
from tests.courses import with_time_limit
from tests.shared import Shared
from tests.support import ROOT, append, reference_copy, variant, variants

GRADE = Path(sys.executable).with_name("grade")
TOPICS = ("stability", "layers", "autodiff", "init")
GLOBAL_RNG = {"global_rng", "gradient_upstream_global_rng"}  # known mistakes of init that draw from it
COUNTED = """
import os
import sys
from dlgrade.cli.main import entry
from dlgrade.sandbox import pool
plain = pool.Sandbox._spawn
def counted(self, spec, wait=True):
    os.write(2, f"spawned {spec.serves or 'exercise'} {spec.module}\\n".encode())
    return plain(self, spec, wait)
pool.Sandbox._spawn = counted
sys.argv = ["grade", *sys.argv[1:]]
entry()
"""
# Exercise A (logsumexp, right) leaves torch changed for the exercises after it: a global that
# relu_forward reads, and torch.exp / Tensor.exp, which stable_softmax's and sigmoid_forward's
# model solutions use.
PATCHES_TORCH = """
_exp = torch.exp


def logsumexp(x, dim=-1, keepdim=False):
    m = torch.amax(x, dim=dim, keepdim=True).detach()
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    out = m + torch.log(torch.sum(_exp(x - m), dim=dim, keepdim=True))
    torch.graded_before = True
    torch.exp = lambda t, *a, **k: torch.zeros_like(t)
    torch.Tensor.exp = lambda self: torch.zeros_like(self)
    return out if keepdim else out.squeeze(dim)
"""
READS_GLOBAL = """
_first_relu_forward = relu_forward


def relu_forward(x):
    if getattr(torch, "graded_before", False):
        return torch.zeros_like(x), None
    return _first_relu_forward(x)
"""
ENDS_BADLY = """
import os


def logsumexp(x, dim=-1, keepdim=False):
    os._exit(3)


def stable_softmax(x, dim=-1):
    while True:
        pass
"""


def graded(folder: Path, mode: str, *names: str, root: Path = ROOT) -> tuple[str, list[str]]:
    """The JSON less its duration, and the workers the grading process started (their lines),
    `grade` run in the course at `root`."""
    proc = subprocess.run(
        [sys.executable, "-c", COUNTED, "--submission", str(folder), "--format", "json", *names],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DLGRADE_DEVICE_WORKER": mode, "DLGRADE_LANES": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert isinstance(doc.pop("duration_s", 0.0), float)
    spawned = [line for line in proc.stderr.splitlines() if line.startswith("spawned ")]
    return json.dumps(doc, indent=1), spawned


def graded_here(course: Course, folder: Path, mode: str, *names: str) -> tuple[str, list[str]]:
    """As `graded`, in this process: `grade(..., device_worker=mode)` (the mode
    DLGRADE_DEVICE_WORKER picks in `grade`), the workers counted by the same wrapper of the
    sandbox's spawn. For the many folders of known mistakes: the tests above prove the real
    `grade` process and its environment variable, each process costs a torch import."""
    spawned: list[str] = []
    plain = pool.Sandbox._spawn

    def counted(self: pool.Sandbox, spec: Any, wait: bool = True) -> Any:
        spawned.append(f"spawned {spec.serves or 'exercise'} {spec.module}")
        return plain(self, spec, wait)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(pool.Sandbox, "_spawn", counted)
        doc = grade(course, folder, names, device_worker=mode).to_dict()
    assert isinstance(doc.pop("duration_s", 0.0), float)
    return json.dumps(doc, indent=1), spawned


def both_here(course: Course, folder: Path, *names: str) -> tuple[str, list[str]]:
    """As `both`, in this process: the JSON (the same in both modes) and the device run's workers."""
    alone, _ = graded_here(course, folder, "exercise", *names)
    shared, device_workers = graded_here(course, folder, "submission", *names)
    assert shared == alone
    return shared, device_workers


def both(folder: Path, *names: str, root: Path = ROOT) -> tuple[str, list[str], list[str]]:
    """The JSON (the same in both modes), the per-exercise run's and the device run's workers."""
    alone, exercise_workers = graded(folder, "exercise", *names, root=root)
    shared, device_workers = graded(folder, "submission", *names, root=root)
    assert shared == alone
    return shared, exercise_workers, device_workers


def statuses(text: str) -> dict[str, str]:
    return {e["id"]: e["status"] for e in json.loads(text)["exercises"]}


def test_one_device_worker_grades_the_reference_as_workers_per_exercise_do(
    course: Course, shared: Shared, tmp_path: Path
) -> None:
    """The device worker's grading of the model solutions against the session's shared one
    (a worker per exercise, tests/shared.py): every exercise's entry the same."""
    folder = reference_copy(course, tmp_path / "reference")
    text, device_workers = graded(folder, "submission", *TOPICS)
    alone = [e.to_dict() for e in shared.reference(course).exercises if e.topic in TOPICS]
    assert json.loads(text)["exercises"] == json.loads(json.dumps(alone))
    assert set(statuses(text).values()) == {"passed"}
    assert device_workers == ["spawned submission stability"]  # exactly one, for all of them


def packed(course: Course, dest: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """Every known mistake of TOPICS, in as few folders as keep each function redefined once,
    each with the topics its mistakes are in."""
    folders: list[tuple[Path, set[str], set[str]]] = []
    for v in variants():
        topic = course.exercise(v.loses[0]).topic
        if topic not in TOPICS or v.path.stem in GLOBAL_RNG:
            continue
        tree = ast.parse(v.path.read_text())
        names = {f"{v.module}.{n.name}" for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        home = next((f for f in folders if not f[1] & names), None)
        if home is None:
            home = (reference_copy(course, dest / f"pack{len(folders)}"), set(), set())
            folders.append(home)
        append(course, home[0] / f"{v.module}.py", v.path)
        home[1].update(names)
        home[2].add(topic)
    return [(f, tuple(t for t in TOPICS if t in topics)) for f, _, topics in folders]


@pytest.mark.slow
def test_the_known_mistakes_get_the_same_verdicts_from_one_device_worker(
    course: Course, tmp_path: Path
) -> None:
    folders = packed(course, tmp_path)
    assert len(folders) >= 2
    for folder, topics in folders:
        text, device_workers = both_here(course, folder, *topics)
        assert "partial" in statuses(text).values() or "failed" in statuses(text).values()
        assert device_workers and all(w.startswith("spawned submission ") for w in device_workers)
    # Draws from the global RNG: the numbers in their messages depend on what the process drew
    # before (with a worker per exercise too: grading gradient_variances alone or with its topic
    # shows other numbers), so these two are held to the same statuses and scores.
    folder = reference_copy(course, tmp_path / "global_rng")
    for stem in sorted(GLOBAL_RNG):
        append(course, folder / "init.py", variant("init", stem).path)
    runs = [
        json.loads(graded_here(course, folder, mode, "init")[0])["exercises"]
        for mode in ("exercise", "submission")
    ]
    alone, shared = ([(e["id"], e["status"], e["score"]) for e in run] for run in runs)
    assert shared == alone and any(status != "passed" for _, status, _ in alone), alone


def test_what_one_exercise_leaves_in_torch_does_not_reach_the_next(course: Course, tmp_path: Path) -> None:
    folder = reference_copy(course, tmp_path / "patches")
    (folder / "stability.py").write_text((folder / "stability.py").read_text() + PATCHES_TORCH)
    (folder / "layers.py").write_text((folder / "layers.py").read_text() + READS_GLOBAL)
    names = ("logsumexp", "stable_softmax", "relu_forward", "sigmoid_forward")
    text, exercise_workers, device_workers = both(folder, *names)
    got = statuses(text)
    assert set(got.values()) == {"passed"}, got
    assert len(exercise_workers) >= len(names)  # the per-exercise run: a worker for each
    assert all(w.startswith("spawned exercise ") for w in exercise_workers)
    # the device worker found torch changed before stable_softmax and left; a fresh one went on
    assert device_workers == ["spawned submission stability", "spawned submission stability"]


def test_an_exercise_that_exits_or_hangs_loses_none_after_it(course: Course, tmp_path: Path) -> None:
    """In a course copy where stable_softmax, which hangs, has a 1 s time limit instead of 5 s:
    each of the two `grade` processes waits it out, and what follows does not depend on its size."""
    root = with_time_limit(tmp_path / "course", "stable_softmax", 1.0)
    folder = reference_copy(course, tmp_path / "ends")
    (folder / "stability.py").write_text((folder / "stability.py").read_text() + ENDS_BADLY)
    names = ("logsumexp", "stable_softmax", "log_softmax", "clip_grad_norm", "relu_forward")
    text, _, device_workers = both(folder, *names, root=root)
    got = statuses(text)
    assert got["logsumexp"] == got["stable_softmax"] == "error", got
    assert got["log_softmax"] == got["clip_grad_norm"] == got["relu_forward"] == "passed", got
    hang = next(e for e in json.loads(text)["exercises"] if e["id"] == "stable_softmax")
    assert "past the 1 s time limit" in hang["message"], hang["message"]  # the copy's limit
    assert len(device_workers) >= 3  # the first exits, the next hangs: each replaced
    assert all(w.startswith("spawned submission ") for w in device_workers)


def test_an_unknown_device_worker_mode_is_one_line() -> None:
    proc = subprocess.run(
        [str(GRADE), "--submission", "reference", "logsumexp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DLGRADE_DEVICE_WORKER": "per-topic"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "DLGRADE_DEVICE_WORKER" in proc.stderr


def test_the_baseline_names_what_cannot_be_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import torch

    from dlgrade.sandbox.device_baseline import Baseline

    monkeypatch.chdir(tmp_path)
    baseline = Baseline("cpu", tmp_path)
    assert baseline.changed() == []
    functional = torch.nn.functional
    monkeypatch.setattr(functional, "relu", lambda x, inplace=False: x)  # replaced
    monkeypatch.setattr(functional.softmax, "__defaults__", (0, 3, None))  # changed in place
    monkeypatch.setattr(torch, "left_for_later", True, raising=False)  # added
    monkeypatch.delattr(torch.Tensor, "backward")  # removed
    (tmp_path / "note.txt").write_text("from exercise A")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        found = baseline.changed()
    finally:
        stop.set()
        thread.join()
    expected = {"torch.nn.functional.relu", "torch.nn.functional.softmax", "torch.left_for_later"}
    assert expected | {"torch.Tensor.backward", "note.txt", "a thread"} <= set(found), found
    assert "torch.nn.functional.gelu" not in found


def test_the_baseline_puts_back_what_can_be_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy
    import torch
    from torch.overrides import TorchFunctionMode

    from dlgrade.sandbox.device_baseline import Baseline

    monkeypatch.chdir(tmp_path)
    baseline = Baseline("cpu", tmp_path)
    first_draws = (torch.rand(3), numpy.random.rand(3))
    modes = torch._C._len_torch_function_stack()
    try:
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float64)
        TorchFunctionMode().__enter__()  # never left
        numpy.seterr(all="raise")
        os.environ["LEFT_BY_A"] = "1"
        baseline.restore()
        assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
        assert torch._C._len_torch_function_stack() == modes
        assert numpy.geterr()["divide"] != "raise" and "LEFT_BY_A" not in os.environ
        assert torch.equal(torch.rand(3), first_draws[0])  # the draws start over
        assert numpy.array_equal(numpy.random.rand(3), first_draws[1])
    finally:
        baseline.restore()
