"""What the grading process believes of a worker: only frames in the state that expects them,
isolation from trusted code, rule breaches in the grader's own words, and memory bounded by
the frame cap (issue 22, section 1). The forged frames come from real worker processes
(`tests/fixtures/hostile/forges_*.py`) through the real `grade` and `grade batch`, or from the
test's end of a real socket."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dlgrade.core import codec
from dlgrade.core.calls import Crashed, Forbidden, ImportFailed, Raised, StudentError
from dlgrade.core.manifest import load_course
from dlgrade.engine import violations
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.sandbox import kernel, wire
from dlgrade.sandbox.handle import MAX_REPORTS, RECEIVE_BUDGET, ProtocolBroken, Worker, WorkerDied
from dlgrade.sandbox.pool import Sandbox, SandboxError
from tests.courses import course_copy, without_static_refusals
from tests.support import hostiles, with_appended

CONTAINED = kernel.landlock_abi() >= 6 and sys.platform.startswith("linux")
GRADE = str(Path(sys.executable).with_name("grade"))
MARK = "dlgrade-pwned"
KERNEL_LAYERS = {"no_new_privs", "landlock", "seccomp"}


class _Host:
    """What a Worker needs of its sandbox, for a worker that is the test's end of a socket."""

    deadline = None
    broken = ""
    received = 0

    def pid_of(self, worker: Worker) -> int:
        return 0

    def reap(self, pid: int) -> int | None:
        return None

    def release(self, pid: int) -> None:
        return None

    def _stuck(self, exc: BaseException) -> Exception:
        return RuntimeError(str(exc))


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    worker = Worker(_Host(), 0, ours)
    yield worker, theirs
    theirs.close()
    ours.close()


def _say(sock: socket.socket, **msg: Any) -> None:
    wire.send_frame(sock, codec.encode(msg))


ISOLATION = {"layers": {"landlock": "ABI 6"}, "missing": {}}


def test_the_first_frame_must_come_from_the_trusted_part_of_the_worker(pair) -> None:
    worker, theirs = pair
    _say(theirs, kind="ready", isolation={"layers": {}, "missing": {"landlock": MARK}})
    with pytest.raises(ProtocolBroken, match="'ready' frame before its confinement"):
        worker.hello(5)
    assert worker.isolation == {}


def test_isolation_comes_from_the_confined_frame_only(pair) -> None:
    worker, theirs = pair
    _say(theirs, kind="confined", isolation=ISOLATION)
    _say(theirs, kind="violation", rule="sandbox", what="audit", call="open")  # at import: dropped
    _say(theirs, kind="ready", isolation={"layers": {}, "missing": {"landlock": MARK}})
    hello = worker.hello(5)
    assert hello["kind"] == "ready" and hello["isolation"] == worker.isolation == ISOLATION


@pytest.mark.parametrize(
    ("frame", "said"),
    [
        ({"kind": "ready"}, "'ready' frame during a call"),
        ({"kind": "confined", "isolation": {}}, "'confined' frame during a call"),
        ({"kind": MARK}, "a frame of no known kind during a call"),
        ({"kind": ["list"]}, "a frame of no known kind during a call"),
        ({"no": "kind"}, "a frame of no known kind during a call"),
    ],
)
def test_a_frame_out_of_turn_breaks_the_protocol(pair, frame: dict, said: str) -> None:
    worker, theirs = pair
    _say(theirs, **frame)
    with pytest.raises(ProtocolBroken, match=said) as info:
        worker.request({"op": "call", "fn": "f", "args": [], "kwargs": {}}, 5)
    assert MARK not in info.value.reason and worker.alive is False


def test_reports_before_a_reply_are_capped(pair) -> None:
    worker, theirs = pair
    for _ in range(MAX_REPORTS * 5):
        _say(theirs, kind="violation", rule="sandbox", what="audit", call="open")
    _say(theirs, kind="ok", value=1)
    reply, reports = worker.receive(5)
    assert reply["value"] == 1 and len(reports) == MAX_REPORTS


def test_a_frame_over_the_cap_is_refused_before_it_is_read(pair) -> None:
    worker, theirs = pair
    theirs.sendall(struct.pack("!Q", 1 << 40) + b"x" * 64)
    with pytest.raises(WorkerDied, match="over the 256 MiB cap"):
        worker.receive(5)


def test_an_undecodable_frame_is_refused_without_quoting_it(pair) -> None:
    worker, theirs = pair
    header = json.dumps({"v": {"t": MARK}, "b": []}).encode()
    wire.send_frame(theirs, struct.pack("!I", len(header)) + header)
    with pytest.raises(WorkerDied, match="cannot read") as info:
        worker.receive(5)
    assert MARK not in info.value.reason


FORBID = {"torch.nn.functional.*": "write it with tensor operations", "torch.einsum": "no einsum"}
BOUNDS = {"torch.einsum": (1, 2, "one einsum")}


@pytest.mark.parametrize(
    ("report", "public", "hidden"),
    [
        (
            {"rule": "torch.nn.functional.*", "what": "forbidden", "call": "torch.nn.functional.softmax"},
            "calls torch.nn.functional.softmax, which this exercise forbids",
            "calls torch.nn.functional.*, which this exercise forbids",
        ),
        (  # a name that does not match the rule, or is no dotted name: the rule stands in
            {"rule": "torch.nn.functional.*", "what": "forbidden", "call": "os.x"},
            "calls torch.nn.functional.*, which this exercise forbids",
            "calls torch.nn.functional.*, which this exercise forbids",
        ),
        (
            {"rule": "torch.nn.functional.*", "what": "forbidden", "call": "torch.nn.functional.a b"},
            "calls torch.nn.functional.*, which this exercise forbids",
            "calls torch.nn.functional.*, which this exercise forbids",
        ),
        (
            {"rule": "torch.einsum", "what": "at_least", "count": 0},
            "must call torch.einsum at least 1 time(s); called it 0",
            "must call torch.einsum at least 1 time(s)",
        ),
        (
            {"rule": "torch.einsum", "what": "at_least", "count": 10**6},
            "must call torch.einsum at least 1 time(s)",
            "must call torch.einsum at least 1 time(s)",
        ),
        (
            {"rule": "torch.einsum", "what": "at_most"},
            "calls torch.einsum more than 2 time(s)",
            "calls torch.einsum more than 2 time(s)",
        ),
        (
            {"rule": "sandbox", "what": "audit", "call": "os.system"},
            "tried to use os.system",
            "does something graded code may not do in the sandbox",
        ),
        (
            {"rule": "sandbox", "what": "import", "call": "ctypes"},
            "imports ctypes, which graded code may not use",
            "does something graded code may not do in the sandbox",
        ),
    ],
)
def test_a_breach_is_told_in_the_graders_words(report: dict, public: str, hidden: str) -> None:
    breach = violations.compose({**report, "detail": MARK, "why": MARK}, FORBID, BOUNDS)
    assert breach is not None and (breach.detail, breach.hidden) == (public, hidden)
    assert MARK not in breach.why


@pytest.mark.parametrize(
    "report",
    [
        {"rule": "no.such.rule", "what": "forbidden", "call": "no.such.rule"},
        {"rule": "torch.einsum", "what": "sandbox"},
        {"rule": "sandbox", "what": "audit", "call": "dlgrade_pwned"},
        {"rule": "sandbox", "what": "import", "call": "numpy"},
        {"rule": ["torch.einsum"], "what": "at_most"},
        "torch.einsum",
    ],
)
def test_a_report_naming_no_rule_of_the_call_is_dropped(report: Any) -> None:
    assert violations.compose(report, FORBID, BOUNDS) is None


def test_a_where_is_a_file_and_line_or_nothing() -> None:
    def where(text: str) -> str:
        breach = violations.compose(
            {"rule": "torch.einsum", "what": "at_most", "where": text}, FORBID, BOUNDS
        )
        assert breach is not None
        return breach.where

    assert where("stability.py:12") == "stability.py:12"
    assert where(f"{MARK} [1.0, 2.0].py:1") == "" and where("x.py:12345678") == ""


def _hostile(name: str):
    return next(h for h in hostiles() if h.id == name)


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return course_copy(tmp_path_factory.mktemp("course"))


def _grade(course_dir: Path, submission: Path, *args: str, python: list[str] | None = None):
    return subprocess.run(
        [*(python or [GRADE]), *args, "--submission", str(submission), "--format", "json"],
        cwd=course_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(not CONTAINED, reason="needs Linux with Landlock ABI >= 6")
def test_a_forged_ready_frame_does_not_reach_the_next_submission(course_dir: Path, tmp_path: Path) -> None:
    """One batch process, containment required: a submission forges a `ready` frame claiming
    no kernel layer; the correct submission graded next keeps full marks and a true report."""
    course = load_course(course_dir)
    subs = tmp_path / "subs"
    with_appended(course, "stability", _hostile("forges_ready_frame").path, subs / "0_forged")
    with_appended(course, "stability", Path(os.devnull), subs / "9_clean")
    run = subprocess.run(
        [GRADE, "batch", str(subs), "stability", "--jobs", "1", "--csv", str(tmp_path / "g.csv")],
        cwd=course_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    text = (tmp_path / "g.json").read_text()
    rows = {r["id"]: r for r in json.loads(text)["rows"]}
    assert rows["9_clean"]["status"] == "graded", rows["9_clean"]
    clean = rows["9_clean"]["result"]
    assert clean["score"] == clean["max_score"]
    assert set(clean["isolation"]["layers"]) >= KERNEL_LAYERS
    assert not KERNEL_LAYERS & set(clean["isolation"]["missing"])
    forged = rows["0_forged"]["result"]
    assert {e["status"] for e in forged["exercises"]} == {"error"}
    assert "broke the protocol" in forged["exercises"][0]["message"]
    assert MARK not in text + run.stderr


def test_forged_violations_reach_no_message(tmp_path: Path) -> None:
    """The worker's text (the call's inputs) is in no message, hidden or public; the grader
    says which rule in its own words. (The static allow-lists would refuse the forger's imports
    before it runs: this is a test of the wire, so they are off.)"""
    (tmp_path / "course").mkdir()
    course_dir = without_static_refusals(tmp_path / "course")
    course = load_course(course_dir)
    sub = with_appended(course, "stability", _hostile("forges_violation_text").path, tmp_path / "sub")
    run = _grade(course_dir, sub, "stability")
    assert run.returncode == 0, run.stderr[-2000:]
    assert MARK not in run.stdout + run.stderr
    result = json.loads(run.stdout)
    ex = next(e for e in result["exercises"] if e["id"] == "log_softmax")
    messages = {c["visibility"]: c["message"] for c in ex["checks"]}
    assert "tried to open a file" in messages["public"]
    assert messages["hidden"] == (
        "log_softmax does something graded code may not do in the sandbox: graded code runs in a sandbox"
    )


@pytest.mark.parametrize(
    "name",
    [
        "forges_meta_tensor",
        # the slow tier: one real `grade` each, the same path as the fast one's
        pytest.param("forges_giant_int_shape", marks=pytest.mark.slow),
        pytest.param("forges_oversized_reply", marks=pytest.mark.slow),
    ],
)
def test_a_forged_reply_is_the_workers_error_not_the_graders(
    course_dir: Path, name: str, tmp_path: Path
) -> None:
    """No grader code runs on what does not decode: no internal error quoting grader lines."""
    course = load_course(course_dir)
    sub = with_appended(course, "stability", _hostile(name).path, tmp_path / "sub")
    run = _grade(course_dir, sub, "log_softmax")
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["internal_errors"] == []
    (ex,) = result["exercises"]
    assert ex["status"] == "error" and "log_softmax" in ex["message"]
    assert "graders" not in run.stdout and "Traceback" not in run.stderr


_MAXRSS = (
    "import resource, sys\n"
    "from dlgrade.cli.main import main\n"
    "from dlgrade.sandbox.shared import close_shared\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "close_shared()\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _peak_kib(course_dir: Path, submission: Path) -> int:
    """The grading process's own peak memory (KiB), its workers not included."""
    run = _grade(course_dir, submission, "log_softmax", python=[sys.executable, "-c", _MAXRSS])
    assert run.returncode == 0, run.stderr[-2000:]
    return int(run.stderr.strip().splitlines()[-1])


def test_large_replies_cost_the_grading_process_at_most_the_run_budget(
    course_dir: Path, tmp_path: Path
) -> None:
    """Each worker answers once with a valid 192 MiB frame: the grading process holds each one
    once (it was three copies), refuses what goes past RECEIVE_BUDGET in all (without it, the
    answers of one exercise cost 1.2 GiB), and a frame announced over the cap costs nothing."""
    course = load_course(course_dir)
    clean = with_appended(course, "stability", Path(os.devnull), tmp_path / "clean")
    large = with_appended(course, "stability", _hostile("forges_large_reply").path, tmp_path / "large")
    over = with_appended(course, "stability", _hostile("forges_oversized_reply").path, tmp_path / "over")
    base = _peak_kib(course_dir, clean)
    frame_kib = 192 << 10
    assert _peak_kib(course_dir, large) - base < RECEIVE_BUDGET >> 10
    assert _peak_kib(course_dir, over) - base < frame_kib // 4


@pytest.mark.parametrize(
    ("reply", "reports", "error", "said"),
    [
        ({"kind": "missing", "message": MARK}, [], ImportFailed, "not defined in stability.py"),
        ({"kind": "raised", "type": "ValueError", "message": "m", "where": MARK}, [], Raised, "Error: m"),
        ({"kind": "exit", "type": "SystemExit", "where": f"{MARK} [0].py:1"}, [], Raised, "not exit"),
        ({"kind": "forbidden", "violations": [{"rule": MARK}]}, [], Crashed, "broke the protocol"),
        (
            {"kind": "ok", "value": 1},
            [{"kind": "violation", "rule": "sandbox", "what": "audit", "call": "open", "detail": MARK}],
            Forbidden,
            "tried to open a file",
        ),
        ({"kind": "unreadable", "message": MARK}, [], SandboxError, "could not read a call of log_softmax"),
    ],
)
def test_a_reply_is_told_in_the_graders_words(course, reply, reports, error, said) -> None:
    box = ExerciseSandbox(Sandbox([]), course, course.exercise("log_softmax"), "", {})
    with pytest.raises(error, match=said) as info:
        box._interpret("log_softmax", (), {}, reply, reports)
    exc = info.value
    for text in (str(exc), *((exc.public(), exc.hidden()) if isinstance(exc, StudentError) else ())):
        assert MARK not in text
