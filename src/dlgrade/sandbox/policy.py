"""Whether grading may go on with the containment in force: `require` refuses, `warn` says so once.

Instructor paths (batch, verify, the CI and Gradescope templates) require kernel containment;
a student's own `grade` warns where it is missing (macOS, an old kernel) and grades anyway.
The choice comes from `--containment`, else the environment variable DLGRADE_CONTAINMENT.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from dlgrade.sandbox import kernel
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.pool import Sandbox, SandboxError

Mode = Literal["require", "warn"]
MODES: tuple[Mode, ...] = ("require", "warn")
ENV = "DLGRADE_CONTAINMENT"
KERNEL_LAYERS = ("no_new_privs", "landlock", "seccomp")
_warned: set[str] = set()
PROBE_MODULE = "def answer():\n    return 42\n"


class ContainmentMissing(SandboxError):
    """Kernel containment is required here and this machine does not give it."""


def mode(default: str = "warn") -> Mode:
    """The mode in force: DLGRADE_CONTAINMENT if it names one, else `default`."""
    value = os.environ.get(ENV, "")
    return "require" if (value if value in MODES else default) == "require" else "warn"


def set_mode(value: Mode) -> None:
    """Make `value` the mode of this process and of the processes it starts (batch jobs)."""
    os.environ[ENV] = value


def problems(box: Sandbox, private: Iterable[str]) -> list[str]:
    """What keeps the workers of `box` from being contained by the kernel: missing layers, and
    course folders a worker could read (a course kept inside the Python installation)."""
    missing = box.isolation.get("missing", {})
    out = [f"{layer}: {missing[layer]}" for layer in KERNEL_LAYERS if layer in missing]
    out += [f"workers can read {p}" for p in kernel.exposed(box.read_roots, private)]
    return out


def tried(box: Sandbox, private: Iterable[str]) -> list[str]:
    """`problems`, as one real worker of `box` on a trivial module found them: the isolation it
    applied, not the zygote's assessment (`grade doctor`; a batch before its first submission)."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-doctor-") as folder:
        Path(folder, "probe.py").write_text(PROBE_MODULE)
        worker = box.spawn(WorkerSpec(folder, "probe", 256))
        hello = worker.hello(60)
        worker.close()
    if hello.get("kind") == "confine_error":
        return [f"a worker could not confine itself: {hello.get('message', '')}"]
    box.isolation = dict(hello.get("isolation", box.isolation))
    return problems(box, private)


def unavailable(found: list[str]) -> str:
    """The refusal where kernel containment is required and `found` keeps it from holding."""
    return (
        f"kernel containment unavailable ({'; '.join(found)}); grade with --containment warn "
        f"(or {ENV}=warn) to accept Python-level isolation only"
    )


def enforce(box: Sandbox, private: Iterable[str], how: Mode | None = None) -> None:
    """Refuse (`require`) or warn once on stderr (`warn`) where containment is incomplete."""
    found = problems(box, private)
    if not found:
        return
    how = how or mode()
    detail = "; ".join(found)
    if how == "require":
        raise ContainmentMissing(unavailable(found))
    if detail not in _warned:
        _warned.add(detail)
        print(f"dlgrade: warning: the kernel does not contain student code here ({detail})", file=sys.stderr)
