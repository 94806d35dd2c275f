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
PENDING_BYTES = 64 << 10  # prints reach the output file in chunks of this much
FIRST_PROGRESS = 10_000  # lines one call printed before the worker first tells the grader


class _Sink(io.RawIOBase):
    """Where the chunks go: the output file up to `cap` bytes, the call's first PRINTED_BYTES
    kept, every newline counted."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.cap, self.used = fd, cap, 0
        self.recent = bytearray()
        self.lines, self.next_progress = 0, FIRST_PROGRESS
        self.progress: Callable[[int], None] | None = None

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.lines += data.count(b"\n")
        room = self.cap - self.used
        if room > 0:
            with contextlib.suppress(OSError):
                os.write(self.fd, data[:room])
            self.used += min(room, len(data))
        if len(self.recent) < PRINTED_BYTES:
            self.recent += data[: PRINTED_BYTES - len(self.recent)]
        if self.lines >= self.next_progress and self.progress is not None:
            self.next_progress = 2 * self.lines
            with contextlib.suppress(Exception):
                self.progress(self.lines)
        return len(data)


class CappedOutput(io.TextIOWrapper):
    """stdout and stderr of a worker: written to `fd` up to `cap` bytes, the rest dropped (a print
    flood is not an error); the start of what each call prints is kept, and its lines counted.

    A print costs little: io's own text and buffered layers (C) gather it, and Python code runs
    once per PENDING_BYTES chunk, not for each of the several writes a print makes. Past
    FIRST_PROGRESS lines, then at each doubling, `progress(lines)` (when set) tells the grader
    how many lines the call has printed so far, so a call that runs out of time printing says so."""

    def __init__(self, fd: int, cap: int) -> None:
        sink = _Sink(fd, cap)
        super().__init__(
            io.BufferedWriter(sink, PENDING_BYTES), encoding="utf-8", errors="replace", newline="\n"
        )
        self.sink = sink

    @property
    def progress(self) -> Callable[[int], None] | None:
        return self.sink.progress

    @progress.setter
    def progress(self, report: Callable[[int], None] | None) -> None:
        self.sink.progress = report

    def take_recent(self) -> tuple[str, int]:
        """What was printed since the last call of this (its first PRINTED_BYTES bytes), and
        how many lines (newlines) that was."""
        with contextlib.suppress(Exception):  # closed by the student, say
            self.flush()
        sink = self.sink
        text, lines = sink.recent.decode("utf-8", "replace"), sink.lines
        sink.recent, sink.lines, sink.next_progress = bytearray(), 0, FIRST_PROGRESS
        return text, lines


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
