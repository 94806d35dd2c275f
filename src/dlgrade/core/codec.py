"""Plain-data wire format between grader and sandbox: tensors, numbers, strings and containers.

Nothing here can carry code: no pickle, no Tensor subclasses, no custom objects (a CPU
torch.Generator travels as its state, a byte string). What the caps of `dlgrade.core.plain`
do not allow (a string too long, a tensor over the frame cap) is sent as an `Opaque` stand-in.
The decoder (`dlgrade.core.decoder`) trusts nothing it reads: see there.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import torch

from dlgrade.core.decoder import decode
from dlgrade.core.plain import (
    DTYPE_NAMES,
    DTYPES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_DIMS,
    MAX_NODES,
    MAX_STRING,
    CodecError,
    Opaque,
    dtype_name,
)

__all__ = ["DTYPES", "MAX_BYTES", "CodecError", "Opaque", "decode", "dtype_name", "encode"]
_ALIGN = 64  # the first buffer starts on this boundary of the payload (the decoder's views)


def encode(value: Any) -> bytes:
    """Encode a value as one frame payload (header JSON + raw buffers)."""
    buffers: list[bytes] = []
    counter = [0]
    tree = _enc(value, buffers, 0, counter)
    header = json.dumps({"v": tree, "b": [len(b) for b in buffers]}, allow_nan=False).encode()
    header += b" " * (-(4 + len(header)) % _ALIGN)  # JSON ends in blanks: the buffers start aligned
    return b"".join([struct.pack("!I", len(header)), header, *buffers])


def _enc(value: Any, buffers: list[bytes], depth: int, counter: list[int]) -> Any:
    counter[0] += 1
    if depth > MAX_DEPTH or counter[0] > MAX_NODES:
        raise CodecError("value is nested too deeply or has too many parts")
    # The exact built-in types first, by identity (an autodiff graph is thousands of tuples of
    # str, int and float); what they return is what the general branches below would.
    kind = type(value)
    if kind is tuple and _plain_row(value):  # an autodiff graph's node: a bare JSON array
        counter[0] += len(value)
        if counter[0] > MAX_NODES:
            raise CodecError("value is nested too deeply or has too many parts")
        return list(value)
    if kind is tuple or kind is list:
        items = [_enc(v, buffers, depth + 1, counter) for v in value]
        return {"t": "tuple" if kind is tuple else "list", "v": items}
    if kind is int:
        return value if -(2**63) <= value < 2**63 else {"t": "opaque", "v": "int (too large)"}
    if kind is str:
        return value if len(value) <= MAX_STRING else {"t": "opaque", "v": "str (too long)"}
    if kind is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value) if len(value) <= MAX_STRING else {"t": "opaque", "v": "str (too long)"}
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else {"t": "opaque", "v": "int (too large)"}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if type(value) is torch.Tensor or type(value) is torch.nn.Parameter:
        return _enc_tensor(value, buffers)
    if isinstance(value, torch.dtype):
        return {"t": "dtype", "v": dtype_name(value)}
    if type(value) is torch.Generator and value.device.type == "cpu":
        buffers.append(value.get_state().numpy().tobytes())  # topic `init`: a seeded CPU generator
        return {"t": "generator", "buf": len(buffers) - 1}
    if type(value) is tuple or type(value) is torch.Size:
        return {"t": "tuple", "v": [_enc(v, buffers, depth + 1, counter) for v in value]}
    if type(value) is list:
        return {"t": "list", "v": [_enc(v, buffers, depth + 1, counter) for v in value]}
    if type(value) is dict:
        keys = list(value.keys())
        if not all(_plain_key(k) for k in keys):
            return {"t": "opaque", "v": "dict with keys that are not str or int"}
        return {"t": "dict", "k": keys, "v": [_enc(value[k], buffers, depth + 1, counter) for k in keys]}
    np_value = _numpy_value(value, buffers)
    if np_value is not None:
        return np_value
    return {"t": "opaque", "v": _type_name(value)}


def _plain_row(value: tuple[Any, ...]) -> bool:
    """Whether a tuple holds only what JSON carries as itself: None, bools, int64 integers,
    finite floats and strings within the cap (the decoder's "row": a bare JSON array)."""
    for v in value:
        kind = type(v)
        if kind is str:
            if len(v) > MAX_STRING:
                return False
        elif kind is int:
            if not -(2**63) <= v < 2**63:
                return False
        elif kind is float:
            if not math.isfinite(v):
                return False
        elif v is not None and kind is not bool:
            return False
    return True


def _plain_key(k: Any) -> bool:
    if type(k) is str:
        return len(k) <= MAX_STRING
    return type(k) is int and -(2**63) <= k < 2**63


def _enc_tensor(t: torch.Tensor, buffers: list[bytes]) -> Any:
    if t.dtype not in DTYPE_NAMES or t.is_sparse or t.layout != torch.strided:
        return {"t": "opaque", "v": f"tensor of dtype {t.dtype} / layout {t.layout}"}
    if t.dim() > MAX_DIMS or t.numel() * t.element_size() > MAX_BYTES or t.device.type == "meta":
        return {"t": "opaque", "v": f"tensor of shape {tuple(t.shape)[:8]} on {t.device.type} (not sendable)"}
    device = str(t.device)
    plain = t.detach()
    if plain.is_conj():
        plain = plain.resolve_conj()
    plain = plain.to("cpu").contiguous()
    flat = plain.reshape(-1)
    if flat.numel() and flat.stride(-1) != 1:  # a size-1 tensor may keep a stride of 0
        flat = torch.empty(flat.shape, dtype=flat.dtype).copy_(flat)
    raw = b"" if flat.numel() == 0 else flat.view(torch.uint8).numpy().tobytes()
    buffers.append(raw)
    return {
        "t": "tensor",
        "dtype": dtype_name(t.dtype),
        "shape": list(t.shape),
        "device": device,
        "buf": len(buffers) - 1,
        "grad": bool(t.requires_grad),
    }


def _numpy_value(value: Any, buffers: list[bytes]) -> Any:
    mod = type(value).__module__
    if not mod.startswith("numpy"):
        return None
    import numpy as np

    if type(value) is np.ndarray and value.dtype.name in DTYPES and value.ndim <= MAX_DIMS:
        arr = np.ascontiguousarray(value)
        buffers.append(arr.tobytes())
        return {
            "t": "ndarray",
            "dtype": value.dtype.name,
            "shape": list(value.shape),
            "buf": len(buffers) - 1,
        }
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        f = float(value)
        return f if math.isfinite(f) else {"t": "float", "v": repr(f)}
    return None


def _type_name(value: Any) -> str:
    t = type(value)
    name = getattr(t, "__qualname__", "object")
    return f"{t.__module__}.{name}" if t.__module__ not in ("builtins", "__main__") else name
