"""What a worker prints: to its capped output file, and the start of each call's prints kept for
the grader (shown with a public failure)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from typing import Any

PRINTED_BYTES = 2048  # of what one call printed, sent back with its answer
PENDING_CHARS = 16 << 10  # prints are written to the output file in chunks of about this much
FIRST_PROGRESS = 10_000  # lines one call printed before the worker first tells the grader


class CappedOutput(io.TextIOBase):
    """stdout and stderr of a worker: written to `fd` up to `cap` bytes, the rest dropped (a print
    flood is not an error); the start of what each call prints is kept, and its lines counted.

    A print costs little: the text is gathered and written in chunks (one syscall per
    PENDING_CHARS, not two per print), and once the cap is reached it is only counted. Past
    FIRST_PROGRESS lines, then at each doubling, `progress(lines)` tells the grader how many
    lines the call has printed so far, so a call that runs out of time printing says so."""

    def __init__(self, fd: int, cap: int, progress: Callable[[int], None] | None = None) -> None:
        self.fd, self.cap, self.used, self.progress = fd, cap, 0, progress
        self.pending: list[str] = []
        self.pending_chars = 0
        self.recent: list[str] = []
        self.recent_chars = 0
        self.lines, self.next_progress = 0, FIRST_PROGRESS

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, s: str) -> int:
        text = s if type(s) is str else str(s)
        self.lines += text.count("\n")
        if self.used + self.pending_chars < self.cap:
            self.pending.append(text)
            self.pending_chars += len(text)
            if self.pending_chars >= PENDING_CHARS:
                self.flush()
        if self.recent_chars < PRINTED_BYTES:
            self.recent.append(text[: PRINTED_BYTES - self.recent_chars])
            self.recent_chars += len(self.recent[-1])
        if self.lines >= self.next_progress and self.progress is not None:
            self.next_progress = 2 * self.lines
            self.progress(self.lines)
        return len(text)

    def flush(self) -> None:
        """Write what is pending, up to the cap."""
        if not self.pending:
            return
        data = "".join(self.pending).encode("utf-8", "replace")[: max(self.cap - self.used, 0)]
        self.pending, self.pending_chars = [], 0
        if data:
            with contextlib.suppress(OSError):
                os.write(self.fd, data)
            self.used += len(data)

    def take_recent(self) -> tuple[str, int]:
        """What was printed since the last call of this (its first PRINTED_BYTES bytes), and
        how many lines (newlines) that was."""
        self.flush()
        data = "".join(self.recent).encode("utf-8", "replace")[:PRINTED_BYTES]
        lines = self.lines
        self.recent, self.recent_chars, self.lines, self.next_progress = [], 0, 0, FIRST_PROGRESS
        return data.decode("utf-8", "replace"), lines


def install_tensor_text(state: Any, shell: Callable[[Callable[..., Any], Any], Any]) -> None:
    """`print(x)` of a tensor in graded code: torch's own formatting iterates, compares and
    reduces the tensor, which an exercise may forbid its student (no iterating over a tensor),
    so a plain tensor's text is made with the guards off (in the zygote, once). A subclass's is
    not, nor with a torch function mode of the student's: their code would run unguarded."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    for name in ("__repr__", "__format__"):
        real = getattr(torch.Tensor, name)
        setattr(torch.Tensor, name, shell(_unguarded(real, state, torch), real))


def _unguarded(real: Callable[..., Any], state: Any, torch: Any) -> Callable[..., Any]:
    plain = (torch.Tensor, torch.nn.Parameter)

    def text(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not state.armed or type(self) not in plain or torch._C._len_torch_function_stack() > 1:
            return real(self, *args, **kwargs)
        state.armed = False
        try:
            return real(self, *args, **kwargs)
        finally:
            state.armed = True

    return text
