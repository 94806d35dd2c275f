"""What a worker takes before it is confined: a GPU where grading runs on one, then its limits.

A worker forked for `--device cuda` opens the GPU while it is still trusted (`open_device`):
the driver opens its device files, maps its memory and starts its threads then, and the kernel
layers applied after it (`kernel.confine`) hold the student's code to what is already open.
The memory cap (`limit`) comes after the device, since it is added to the address space the
process already has (torch's libraries and, on a GPU, the driver's mappings).
"""

from __future__ import annotations

import contextlib
import os
import resource

# What a worker grading on a GPU is granted besides (kernel.Plan): the NVIDIA driver's device
# files (read, write, ioctl) and the driver's and CUDA's read-only files. The driver opens most
# of them in `open_device`, before confinement; these rules cover what it opens later.
GPU_DEVICE_PREFIX = "/dev/nvidia"
GPU_READ = (
    "/proc/driver/nvidia",
    "/sys/bus/pci/devices",
    "/sys/devices",
    "/usr/local/nvidia",
    "/usr/local/cuda",
)


def gpu_devices() -> list[str]:
    """The NVIDIA device files of this machine (none without a GPU)."""
    folder, prefix = os.path.split(GPU_DEVICE_PREFIX)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if n.startswith(prefix))


def open_device(device: str) -> None:
    """Create `device`'s context and its BLAS library's (nothing for the CPU)."""
    import torch  # the worker has it already; `kernel` imports this module without it

    if torch.device(device).type == "cpu":
        return
    x = torch.ones(2, 2, device=device)
    (x @ x).sum().item()  # .item() waits until the context and the library are up


def limit(memory_mb: int, output_bytes: int) -> None:
    """No core files, output capped at `output_bytes`, `memory_mb` more address space."""

    def setlimit(which: int, value: int) -> None:
        # Not every platform enforces every limit; the time limit holds regardless.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))

    setlimit(resource.RLIMIT_CORE, 0)
    setlimit(resource.RLIMIT_FSIZE, output_bytes)
    used = address_space()
    if used:  # the cap is on top of what is already mapped; unknown size (no /proc): no cap
        setlimit(resource.RLIMIT_AS, used + (memory_mb << 20))


def address_space() -> int:
    """This process's virtual memory size in bytes (0 where /proc is absent)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0
