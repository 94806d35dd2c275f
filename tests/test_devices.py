"""`--device`: checked before anything is graded; a worker opens a GPU before it is confined
(whose rules then cover the driver's files and threads); a call a worker cannot decode is the
engine's failure, not a crash of the student's code.

What needs a GPU is run on one by bench/gpu_parity.py (docs/performance.md, "Graders on a GPU").
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core import codec
from dlgrade.engine.devices import DeviceError, usable_device
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.sandbox import kernel, seccomp, wire
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.pool import SandboxError
from tests.support import ROOT

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel layers are Linux's")
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine can use CUDA")


def test_usable_device_takes_the_cpu_and_says_what_is_wrong_with_the_rest() -> None:
    assert usable_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="names no device"):
        usable_device("bogus")
    with pytest.raises(DeviceError, match="cpu or cuda only"):
        usable_device("meta")


@NO_CUDA
def test_cuda_is_refused_where_torch_cannot_use_it() -> None:
    with pytest.raises(DeviceError, match="cannot use CUDA"):
        usable_device("cuda")


@pytest.mark.parametrize("device", ["bogus", "meta"])
def test_grade_refuses_a_device_in_one_line_before_grading(monkeypatch, device: str) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["--submission", "reference", "--device", device, "stability"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: --device {device!r}"[:16])
    assert "Traceback" not in result.output and "Total" not in result.stdout


@NO_CUDA
def test_a_worker_that_cannot_open_its_device_is_an_engine_failure(course) -> None:
    box = course_sandbox(course)
    try:
        worker = box.spawn(WorkerSpec(str(course.reference_dir()), "stability", 2048, device="cuda"))
        hello = worker.hello(30)
        assert hello["kind"] == "device_error", hello
        assert "CUDA" in hello["message"]
        exercise = ExerciseSandbox(box, course, course.exercise("logsumexp"), "", {}, device="cuda")
        exercise.folder = str(course.reference_dir())
        with pytest.raises(SandboxError, match="could not use cuda"):
            exercise.call("logsumexp", (torch.zeros(2),), {"dim": 0})
    finally:
        box.close()


def _frame_on(device: str, value: dict) -> bytes:
    """`value` encoded as if its tensors were on `device` (a frame only another machine could make)."""
    payload = codec.encode(value)
    (hlen,) = struct.unpack("!I", payload[:4])
    header = json.loads(payload[4 : 4 + hlen])
    text = json.dumps(header).replace('"device": "cpu"', f'"device": "{device}"').encode()
    return struct.pack("!I", len(text)) + text + payload[4 + hlen :]


@NO_CUDA
def test_a_call_the_worker_cannot_decode_is_answered_and_the_worker_lives_on(course) -> None:
    box = course_sandbox(course)
    try:
        worker = box.spawn(WorkerSpec(str(course.reference_dir()), "stability", 2048))
        assert worker.hello(30)["kind"] == "ready"
        call = {"op": "call", "fn": "logsumexp", "args": [torch.zeros(2)], "kwargs": {"dim": 0}}
        wire.send_frame(worker.sock, _frame_on("cuda:0", call))
        reply, _ = worker.receive(30)
        assert reply["kind"] == "unreadable" and "cuda" in reply["message"]
        reply, _ = worker.request({**call, "forbid": {}, "bounds": {}}, 30)
        assert reply["kind"] == "ok" and float(reply["value"]) == pytest.approx(torch.log(torch.tensor(2.0)))
    finally:
        box.close()


def _in_child(body: Callable[[], int]) -> int:
    """Run `body` in a forked child; its return value is the child's exit status (99: it raised)."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        except BaseException as exc:
            os.write(2, f"child raised {exc!r}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@LINUX
@pytest.mark.skipif(kernel.landlock_abi() < 1, reason="no Landlock here")
def test_landlock_grants_the_gpu_files_only_to_a_worker_on_a_gpu(tmp_path: Path) -> None:
    # /dev/zero stands in for a GPU's device file: read-only to every worker (SYSTEM_READ),
    # writable once it is one of the plan's GPU files and the worker grades on a GPU.
    plan = kernel.Plan(read=kernel.make_plan().read, gpu_devices=("/dev/zero",))

    def writes_dev_zero(gpu: bool) -> Callable[[], int]:
        def body() -> int:
            kernel.confine(plan, str(tmp_path), gpu=gpu)
            try:
                os.close(os.open("/dev/zero", os.O_WRONLY))
            except PermissionError:
                return 1
            return 0

        return body

    assert _in_child(writes_dev_zero(gpu=True)) == 0
    assert _in_child(writes_dev_zero(gpu=False)) == 1


@LINUX
@pytest.mark.skipif(not seccomp.supported(), reason="no seccomp filter for this architecture")
def test_a_worker_with_threads_puts_every_thread_under_the_filter(tmp_path: Path) -> None:
    # A GPU driver starts threads before the worker confines itself; the filter must hold them.
    def body() -> int:
        started, go, result = threading.Event(), threading.Event(), []

        def other_thread() -> None:
            started.set()
            go.wait()
            try:
                socket.socket().close()
                result.append("socket made")
            except PermissionError:
                result.append("denied")

        t = threading.Thread(target=other_thread)
        t.start()
        started.wait()
        kernel.confine(kernel.Plan(read=kernel.make_plan().read), str(tmp_path))
        go.set()
        t.join()
        return 0 if result == ["denied"] else 1

    assert _in_child(body) == 0
