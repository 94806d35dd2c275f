"""Where the graders put their inputs (`--device`): checked before anything is graded.

A device this machine does not have would otherwise fail every check as a grader error; the
workers can open the CPU and CUDA GPUs (sandbox.resources), so those are the devices offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from dlgrade.core.manifest import Exercise
from dlgrade.sandbox.device_lease import SubmissionWorkers
from dlgrade.sandbox.pool import Sandbox


class DeviceError(ValueError):
    """`--device` names no device that grading can use here."""


def usable_device(name: str) -> str:
    """`name` if grading can put its inputs there on this machine; DeviceError if not."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise DeviceError(f"--device {name!r} names no device (try cpu, cuda or cuda:1)") from None
    if device.type == "cpu":
        return name
    if device.type != "cuda":
        raise DeviceError(f"--device {name}: graded code can run on cpu or cuda only")
    if not torch.cuda.is_available():
        raise DeviceError(f"--device {name}: this machine's torch cannot use CUDA")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return name


WORKER_ENV = "DLGRADE_DEVICE_WORKER"  # "exercise" or "submission": an internal choice (docs/sandbox.md)
WORKER_MODES = ("exercise", "submission")


def worker_mode(device: str, chosen: str | None = None) -> str:
    """How a run's exercises get their workers: "exercise" (a worker each, the CPU's default) or
    "submission" (one device worker serves them in turn, a GPU's default: sandbox.device_lease).
    `chosen`, else the environment's DLGRADE_DEVICE_WORKER, picks one on any device."""
    import os

    mode = chosen or os.environ.get(WORKER_ENV, "")
    if not mode:
        return "exercise" if device.split(":")[0] == "cpu" else "submission"
    if mode not in WORKER_MODES:
        raise DeviceError(f"{WORKER_ENV}={mode!r}: expected exercise or submission")
    return mode


def workers_for(
    box: Sandbox, device: str, exercises: Sequence[Exercise], lanes: int, chosen: str | None = None
) -> tuple[Sandbox, int]:
    """The sandbox a run spawns its workers from, and its lanes: `box` and `lanes` with a worker
    per exercise; with one device worker per submission, a stand-in for `box` (it spawns that
    worker, sandbox.device_lease) and one lane (the device worker serves the exercises in turn)."""
    if worker_mode(device, chosen) != "submission":
        return box, lanes
    most = max((e.memory_limit_mb for e in exercises), default=0)
    return cast(Sandbox, SubmissionWorkers(box, most)), 1  # a Sandbox in all but spawning
