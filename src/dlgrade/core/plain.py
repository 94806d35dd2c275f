"""What plain data is on the wire: the dtypes, the caps, and the two types codec and decoder share.

The caps bound what one frame may make the receiving process do: how many bytes it reads,
how many values and dimensions it builds, how long a string or an integer may be.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MAX_BYTES = 1 << 28  # one frame (256 MiB); a student result larger than this is an error
MAX_HEADER = 1 << 22  # the JSON part of a frame (4 MiB)
MAX_DEPTH = 32  # containers inside containers
MAX_NODES = 100_000  # values in one frame, containers and buffers included
MAX_STRING = 1 << 16  # characters in one string (what a worker prints is capped far below)
MAX_DIMS = 32  # dimensions of one tensor (torch allows 64)
MAX_INT_CHARS = 20  # an int64 in decimal, sign included
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
ITEM_SIZES = {name: torch.empty((), dtype=d).element_size() for name, d in DTYPES.items()}


class CodecError(ValueError):
    """Data that is not plain data, or a frame that does not decode. The message never quotes
    the frame: it is composed from the decoder's own words and numbers."""


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value the sandbox could not send as plain data."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def dtype_name(dtype: torch.dtype) -> str:
    return DTYPE_NAMES.get(dtype, str(dtype).removeprefix("torch."))
