"""Where the graders put their inputs (`--device`): checked before anything is graded.

A device this machine does not have would otherwise fail every check as a grader error; the
workers can open the CPU and CUDA GPUs (sandbox.resources), so those are the devices offered.
"""

from __future__ import annotations


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
