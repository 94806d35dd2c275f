"""Grade one submission's exercises in parallel lanes, one per usable core.

Lane 0 is the grading process itself; every other lane is a fork of it (made after the imports,
before any check runs) with a zygote of its own, forked from the first zygote
(dlgrade.sandbox.lane). Every lane runs the same pytest session over the same grader files;
an exercise is graded by the lane that claims it first (`Claims`: at its first check, or when
a lane starts its worker ahead of need), entirely in that lane, in its own worker as always.
The other lanes skip its checks. Lane 0 then takes each exercise's records from the lane that
graded it, so the result, and the order of its exercises and checks, is the serial one.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dlgrade.core.mistakes import Mistake
from dlgrade.engine.claims import Claims
from dlgrade.engine.session import CheckRecord, GradingSession
from dlgrade.sandbox.lane import LaneSandbox, forget, open_lane
from dlgrade.sandbox.pool import Sandbox, SandboxBroken, SandboxError


def run_in_lanes(
    session: GradingSession, lanes: int, run: Callable[[GradingSession], None], error: type[Exception]
) -> None:
    """Run `run(session)` (engine.runner.run_checks) on `lanes` lanes (no more than there are
    exercises), and merge what the lanes graded into `session`. A lane that fails is `error`."""
    lanes = min(lanes, len(session.selected))
    if lanes <= 1:
        session.head_start()  # its first worker starts while pytest collects
        run(session)
        return
    claims = session.claims = Claims([e.id for e in session.selected])
    children: list[tuple[int, int]] = []
    try:
        for lane in range(1, lanes):
            box = open_lane(session.sandbox)
            box.admission, box.deadline = _quiet(session.sandbox.admission), session.sandbox.deadline
            readable, writable = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the lane's process (measured through its results)
                os.close(readable)
                _lane(session, box, claims, lane, writable, run)
            os.close(writable)
            forget(box)  # the lane's process owns its link
            children.append((pid, readable))
        session.head_start()  # lane 0's first worker starts while pytest starts (a lane's: as it collects)
        run(session)
        reports = []
        while children:
            pid, readable = children.pop(0)
            reports.append(_collect(pid, readable, error))
    finally:
        for pid, readable in children:  # lane 0 failed: the other lanes' work is not wanted
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _collect(pid, readable, error, quiet=True)
    for lane, report in enumerate(reports, start=1):
        _merge(session, claims, lane, report, error)


def _lane(
    session: GradingSession,
    box: LaneSandbox,
    claims: Claims,
    lane: int,
    out: int,
    run: Callable[[GradingSession], None],
) -> None:
    """A forked lane: grade the exercises it claims, send their records, leave."""
    code = 70
    try:
        _die_with_parent()
        torch = sys.modules.get("torch")
        if torch is not None:  # one thread: the cores are the lanes', and OpenMP's threads of a
            torch.set_num_threads(1)  # process that computed before the fork hang in a fork
        forget(session.sandbox)
        claims.lane = lane
        session.sandbox = box
        report: dict[str, Any] = {}
        try:
            run(session)
        except RuntimeError as exc:  # the sandbox's or the engine's failure
            report["fatal"] = [type(exc).__name__, str(exc)]
        finally:
            session.close()
            box.close()
        report.update(_report(session, claims))
        with os.fdopen(out, "w", encoding="utf-8") as f:
            json.dump(report, f)
        code = 0
    finally:
        os._exit(code)


def _quiet(admission: Callable[[Sandbox], None] | None) -> Callable[[Sandbox], None] | None:
    """A lane's admission: it refuses what lane 0's refuses; lane 0 alone says a warning."""
    if admission is None:
        return None
    first = admission

    def quiet(box: Sandbox) -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            first(box)

    return quiet


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _report(session: GradingSession, claims: Claims) -> dict[str, Any]:
    mine = [e.id for e in session.selected if claims.mine(e.id)]
    # the failing calls stay in this lane: it names their known mistake here (engine.diagnosis)
    found = {e: m for e in mine if (m := session.mistake(e)) is not None}
    return {
        "records": {k: asdict(r) for k, r in session.records.items() if claims.mine(r.exercise)},
        "mistakes": {e: [str(m.path), m.module, list(m.loses), m.name, m.teaches] for e, m in found.items()},
        "internal_errors": list(session.internal_errors),
        "import_failures": dict(session.import_failures),
        "unsalted": session.unsalted,
        "isolation": session.sandbox.isolation if session.boxes or session._opened else {},
    }


def _collect(pid: int, readable: int, error: type[Exception], *, quiet: bool = False) -> dict[str, Any]:
    with os.fdopen(readable, "r", encoding="utf-8") as f:
        text = f.read()
    _, status = os.waitpid(pid, 0)
    if quiet:
        return {}
    if os.waitstatus_to_exitcode(status) != 0 or not text:
        raise error(f"a grading lane failed (wait status {status})")
    report: dict[str, Any] = json.loads(text)
    return report


def _merge(
    session: GradingSession, claims: Claims, lane: int, report: dict[str, Any], error: type[Exception]
) -> None:
    fatal = report.get("fatal")
    if fatal:
        kinds: dict[str, type[Exception]] = {"SandboxBroken": SandboxBroken, "SandboxError": SandboxError}
        raise kinds.get(fatal[0], error)(fatal[1])
    for key, data in report["records"].items():
        record = CheckRecord(**{**data, "hint_when": tuple(data["hint_when"])})
        if claims.owner(record.exercise) == lane:
            session.records[key] = record
    for exercise, (path, module, loses, name, teaches) in report["mistakes"].items():
        if claims.owner(exercise) == lane:
            session.diagnosed[exercise] = Mistake(Path(path), module, tuple(loses), name, teaches)
    for exercise in session.selected:
        if claims.owner(exercise.id) == lane:
            session.diagnosed.setdefault(exercise.id, None)
    for line in report["internal_errors"]:
        if line not in session.internal_errors:
            session.internal_errors.append(line)
    session.import_failures.update(report["import_failures"])
    session.unsalted |= bool(report["unsalted"])
    if report["isolation"] and not session._opened:
        session.sandbox.isolation = dict(report["isolation"])
