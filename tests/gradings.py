"""One engine grading of the same bytes, shared by the CLI tests that would each make it again.

`grade package`, `grade verify`, `grade --submission` and the student's `grade` in a bundle each
end in `dlgrade.engine.runner.grade`; the package, verify and bundle tests run those commands on
the same few submissions (the model solutions, the stubs, one known mistake), so the same
grading was made up to five times. `share_gradings(shared, monkeypatch)` puts a memo
(`shared_grade`) in front of the engine for one test: every command's own code runs in full
(packing, digests, comparisons, output, exit status); the engine's grading of a submission is
made by whichever test asks first and read back by the others (tests/shared.py, across
pytest-xdist workers).

A grading is the same only for the same bytes: the key is the course's files that grading reads
(course.toml, release.json, the secret, every file below graders/, reference/ and mistakes/), every
file of the submission folder, the DLGRADE_* environment (the containment mode only where the
kernel does not contain the workers), and every argument but the label, the sandbox and the
lanes (the lanes give the serial result: tests/test_lanes.py). A grading whose result names the
folder or the course it was made in, one that returns the hidden checks' messages (`revealed`)
and one that raises are not shared.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult
from dlgrade.engine import runner
from dlgrade.sandbox import kernel, policy
from tests.shared import Shared

COURSE_FOLDERS = ("graders", "reference", "mistakes")
COURSE_FILES = ("course.toml", "release.json", ".dlgrade-secret")
# With the kernel's layers in force, `require` and `warn` grade alike (they differ only where
# containment is missing: dlgrade.sandbox.policy); elsewhere the mode is part of the key.
CONTAINED = kernel.landlock_abi() >= 6 and sys.platform.startswith("linux")
_SAME = {policy.ENV} if CONTAINED else set()


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return [
        (p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    ]


def grading_key(course: Course, folder: Path, names: tuple[str, ...], options: dict[str, Any]) -> str:
    """What a grading's verdicts depend on (the module docstring), as one digest."""
    h = hashlib.sha256()
    root = Path(course.root)
    for name in COURSE_FILES:
        path = root / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"<none>") + b"\0")
    for sub in COURSE_FOLDERS:
        for rel, data in _files(root / sub) if (root / sub).is_dir() else []:
            h.update(f"{sub}/{rel}".encode() + b"\0" + hashlib.sha256(data).digest())
    for rel, data in _files(Path(folder)):
        h.update(f"submission/{rel}".encode() + b"\0" + hashlib.sha256(data).digest())
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("DLGRADE") and k not in _SAME)
    h.update(repr((names, sorted(options.items()), env)).encode())
    return h.hexdigest()[:24]


def shared_grade(
    shared: Shared,
    course: Course,
    folder: Path,
    names=(),
    *,
    label: str = "",
    sandbox=None,
    lanes: int = 1,
    **kw,
) -> GradeResult:
    """`dlgrade.engine.runner.grade`, made once a session for the same bytes (the module docstring)."""
    real = _REAL
    if kw.get("revealed") is not None:
        return real(course, folder, names, label=label, sandbox=sandbox, lanes=lanes, **kw)
    options = {k: v.default for k, v in _OPTIONS.items()} | kw  # `device` given or not: one key
    key = f"grading-{grading_key(course, folder, tuple(names), options)}"

    def make() -> tuple[tuple[str, str], GradeResult]:
        made = real(course, folder, names, label=label, sandbox=sandbox, lanes=lanes, **kw)
        return (str(folder), str(course.root)), made

    made_in, result = shared.get(key, make)
    result = dataclasses.replace(result, submission=label or str(folder))
    here = (str(folder), str(course.root))
    text = pickle.dumps(result)
    if any(there != mine and there.encode() in text for there, mine in zip(made_in, here, strict=True)):
        # its feedback names the folder or course it was graded in: grade this one itself
        return real(course, folder, names, label=label, sandbox=sandbox, lanes=lanes, **kw)
    return result


_REAL = runner.grade
_OPTIONS = {
    name: p
    for name, p in inspect.signature(_REAL).parameters.items()
    if p.kind is p.KEYWORD_ONLY and name not in ("label", "sandbox", "lanes")
}


def share_gradings(shared: Shared, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put `shared_grade` in front of the engine for the calling test (or fixture): the
    commands it runs import `grade` from dlgrade.engine.runner when they grade."""
    monkeypatch.setattr(runner, "grade", functools.partial(shared_grade, shared))
