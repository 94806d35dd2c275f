"""`grade doctor`: what this machine's kernel offers to contain student code, tried for real."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnosis:
    probe: dict[str, Any]  # what the kernel offers (kernel.probe)
    isolation: dict[str, Any]  # what a real worker applied: {"layers": {...}, "missing": {...}}
    problems: tuple[str, ...]  # why containment is incomplete; empty when complete

    @property
    def contained(self) -> bool:
        return not self.problems


def diagnose(private: list[str]) -> Diagnosis:
    """Start a sandbox, spawn one worker on a trivial module and read what it applied."""
    from dlgrade.sandbox import kernel, policy
    from dlgrade.sandbox.pool import Sandbox

    box = Sandbox([])
    try:
        found = policy.tried(box, private)
        return Diagnosis(kernel.probe(), box.isolation, tuple(found))
    finally:
        box.close()


def render(d: Diagnosis) -> str:
    p = d.probe
    lines = [
        f"platform      {p['platform']}",
        f"landlock      ABI {p['landlock_abi']}" if p["landlock_abi"] else "landlock      not offered",
        f"seccomp       {'filter available' if p['seccomp'] else 'no filter for this architecture'}",
        f"running as    {'root' if p['root'] else 'an unprivileged user'}",
        "",
        "a worker applied:",
    ]
    lines += [f"  ✓ {layer:<13} {what}" for layer, what in d.isolation.get("layers", {}).items()]
    lines += [f"  ✗ {layer:<13} {why}" for layer, why in d.isolation.get("missing", {}).items()]
    lines.append("")
    if d.contained:
        lines.append("kernel containment: complete")
    else:
        lines.append("kernel containment: INCOMPLETE — " + "; ".join(d.problems))
    return "\n".join(lines) + "\n"
