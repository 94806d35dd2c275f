"""Plain-data wire format between grader and sandbox: tensors, numbers, strings and containers.

Nothing here can carry code: no pickle, no Tensor subclasses, no custom objects (a CPU
torch.Generator travels as its state, a byte string). The decoder
trusts nothing it reads: dtypes come from a whitelist, sizes are checked, depth and total
size are capped, and every tensor it builds is a fresh, plain `torch.Tensor`.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import torch

MAX_DEPTH = 32
MAX_NODES = 100_000
MAX_BYTES = 1 << 30  # one frame; a student result larger than this is an error

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
_DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


class CodecError(ValueError):
    """Data that is not plain data, or a frame that does not decode."""


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value the sandbox could not send as plain data."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def dtype_name(dtype: torch.dtype) -> str:
    return _DTYPE_NAMES.get(dtype, str(dtype).removeprefix("torch."))


def encode(value: Any) -> bytes:
    """Encode a value as one frame payload (header JSON + raw buffers)."""
    buffers: list[bytes] = []
    counter = [0]
    tree = _enc(value, buffers, 0, counter)
    header = json.dumps({"v": tree, "b": [len(b) for b in buffers]}, allow_nan=True).encode()
    return b"".join([struct.pack("!I", len(header)), header, *buffers])


def _enc(value: Any, buffers: list[bytes], depth: int, counter: list[int]) -> Any:
    counter[0] += 1
    if depth > MAX_DEPTH or counter[0] > MAX_NODES:
        raise CodecError("value is nested too deeply or has too many parts")
    if value is None or isinstance(value, bool | str):
        return value
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
        if not all(type(k) in (str, int) for k in keys):
            return {"t": "opaque", "v": "dict with keys that are not str or int"}
        return {"t": "dict", "k": keys, "v": [_enc(value[k], buffers, depth + 1, counter) for k in keys]}
    np_value = _numpy_value(value, buffers)
    if np_value is not None:
        return np_value
    return {"t": "opaque", "v": _type_name(value)}


def _enc_tensor(t: torch.Tensor, buffers: list[bytes]) -> Any:
    if t.dtype not in _DTYPE_NAMES or t.is_sparse or t.layout != torch.strided:
        return {"t": "opaque", "v": f"tensor of dtype {t.dtype} / layout {t.layout}"}
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

    if type(value) is np.ndarray and value.dtype.name in DTYPES:
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


def decode(payload: bytes, *, max_bytes: int = MAX_BYTES) -> Any:
    """Decode a payload from `encode`, validating everything."""
    if len(payload) > max_bytes:
        raise CodecError(f"frame of {len(payload)} bytes exceeds the {max_bytes}-byte cap")
    if len(payload) < 4:
        raise CodecError("truncated frame")
    (hlen,) = struct.unpack("!I", payload[:4])
    if hlen > len(payload) - 4:
        raise CodecError("truncated frame header")
    try:
        header = json.loads(payload[4 : 4 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"bad frame header: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("b"), list):
        raise CodecError("bad frame header")
    sizes = header["b"]
    if not all(type(s) is int and s >= 0 for s in sizes) or 4 + hlen + sum(sizes) != len(payload):
        raise CodecError("frame buffer sizes do not add up")
    bufs, pos = [], 4 + hlen
    for s in sizes:
        bufs.append(memoryview(payload)[pos : pos + s])
        pos += s
    return _dec(header.get("v"), bufs, 0, [0])


def _dec(node: Any, bufs: list[memoryview], depth: int, counter: list[int]) -> Any:
    counter[0] += 1
    if depth > MAX_DEPTH or counter[0] > MAX_NODES:
        raise CodecError("value is nested too deeply or has too many parts")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict or not isinstance(node.get("t"), str):
        raise CodecError("malformed value")
    kind = node["t"]
    if kind in ("tuple", "list"):
        items = [_dec(v, bufs, depth + 1, counter) for v in _list(node.get("v"))]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        keys, vals = _list(node.get("k")), _list(node.get("v"))
        if len(keys) != len(vals) or not all(type(k) in (str, int) for k in keys):
            raise CodecError("malformed dict")
        return {k: _dec(v, bufs, depth + 1, counter) for k, v in zip(keys, vals, strict=True)}
    if kind == "float":
        if node.get("v") not in ("nan", "inf", "-inf"):
            raise CodecError("malformed float")
        return float(node["v"])
    if kind == "dtype":
        if node.get("v") not in DTYPES:
            raise CodecError("unknown dtype")
        return DTYPES[node["v"]]
    if kind == "opaque":
        return Opaque(str(node.get("v"))[:200])
    if kind in ("tensor", "ndarray"):
        return _dec_array(node, bufs, kind)
    if kind == "generator":
        return _dec_generator(node, bufs)
    raise CodecError(f"unknown value kind {kind[:40]!r}")


def _list(v: Any) -> list[Any]:
    if type(v) is not list:
        raise CodecError("malformed container")
    return v


def _dec_array(node: dict[str, Any], bufs: list[memoryview], kind: str) -> Any:
    dtype = DTYPES.get(node.get("dtype"))  # type: ignore[arg-type]
    shape = node.get("shape")
    idx = node.get("buf")
    if dtype is None or type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape):
        raise CodecError("malformed tensor")
    if type(idx) is not int or not 0 <= idx < len(bufs):
        raise CodecError("malformed tensor buffer")
    raw = bufs[idx]
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if numel * itemsize != len(raw):
        raise CodecError("tensor size does not match its buffer")
    flat = torch.empty(0, dtype=dtype) if numel == 0 else torch.frombuffer(bytearray(raw), dtype=dtype)
    t = flat.reshape(shape)
    if kind == "ndarray":
        return t.numpy()
    device = node.get("device", "cpu")
    if isinstance(device, str) and device != "cpu":
        try:
            t = t.to(device)
        except (RuntimeError, AssertionError, ValueError):
            raise CodecError(f"tensor on device {device[:20]!r}, which this process cannot use") from None
    return t


_GENERATOR_STATE_BYTES = torch.Generator().get_state().numel()


def _dec_generator(node: dict[str, Any], bufs: list[memoryview]) -> torch.Generator:
    """A fresh CPU torch.Generator in the state that was sent (its Mersenne Twister state)."""
    idx = node.get("buf")
    if type(idx) is not int or not 0 <= idx < len(bufs) or len(bufs[idx]) != _GENERATOR_STATE_BYTES:
        raise CodecError("malformed generator state")
    g = torch.Generator()
    try:
        g.set_state(torch.frombuffer(bytearray(bufs[idx]), dtype=torch.uint8))
    except (RuntimeError, ValueError):
        raise CodecError("malformed generator state") from None
    return g
