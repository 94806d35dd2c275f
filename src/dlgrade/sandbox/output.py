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


class CappedOutput(io.TextIOBase):
    """stdout and stderr of a worker: written to `fd` up to `cap` bytes, the rest counted and
    dropped (a print flood is not an error); the start of what each call prints is kept."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.cap, self.used, self.dropped = fd, cap, 0, 0
        self.recent = bytearray()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, s: str) -> int:
        data = str(s).encode("utf-8", "replace")
        room = max(self.cap - self.used, 0)
        if room:
            with contextlib.suppress(OSError):
                os.write(self.fd, data[:room])
        self.used += min(room, len(data))
        self.dropped += len(data) - min(room, len(data))
        if len(self.recent) < PRINTED_BYTES:
            self.recent += data[: PRINTED_BYTES - len(self.recent)]
        return len(s)

    def take_recent(self) -> str:
        """What was printed since the last call of this (its first PRINTED_BYTES bytes)."""
        text, self.recent = self.recent.decode("utf-8", "replace"), bytearray()
        return text


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
