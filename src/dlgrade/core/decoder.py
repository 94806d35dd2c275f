"""The strict decoder: a frame from another process, read as hostile input.

Every cap of `dlgrade.core.plain` is checked before anything is built from the number it
bounds: the frame's size before it is read, an integer's digits before it is parsed, a
tensor's dimensions one by one before they are multiplied, its buffer's size before a tensor
is made. Each buffer of a frame makes at most one value. A tensor is plain, strided and on
the CPU or the device of the run (`device`), nothing else (no `meta` tensor is ever built).
A writable frame (the bytearray `sandbox.wire` reads into) is not copied: tensors are views
of it where their data is aligned to their item size (else copies), so decoding costs at most
one more copy of the frame.
"""

from __future__ import annotations

import json
import math
import re
import struct
from typing import Any

import torch

from dlgrade.core.plain import (
    DTYPES,
    INT_MAX,
    INT_MIN,
    ITEM_SIZES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_DIMS,
    MAX_HEADER,
    MAX_INT_CHARS,
    MAX_NODES,
    MAX_STRING,
    CodecError,
    Opaque,
)

MAX_FLOAT_CHARS = 40  # a float's repr takes at most 24
_DEVICE = re.compile(r"[a-z]{2,8}(:[0-9]{1,2})?")
_TENSOR_KEYS = frozenset({"t", "dtype", "shape", "device", "buf", "grad"})
_ARRAY_KEYS = frozenset({"t", "dtype", "shape", "buf"})
_GENERATOR_STATE_BYTES = torch.Generator().get_state().numel()


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_CHARS:
        raise CodecError("an integer with too many digits")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise CodecError("an integer outside the 64-bit range")
    return value


def _parse_float(text: str) -> float:
    if len(text) > MAX_FLOAT_CHARS:
        raise CodecError("a number with too many digits")
    value = float(text)
    if not math.isfinite(value):  # infinities travel as {"t": "float"}, never as 1e999
        raise CodecError("a number outside the float range")
    return value


def _no_constant(_text: str) -> Any:
    raise CodecError("NaN or Infinity outside a float value")


class _Frame:
    """One frame being decoded: its buffers, which are used, and how many values so far."""

    def __init__(self, payload: bytes | bytearray, bufs: list[tuple[int, int]], device: str):
        self.payload = payload
        self.view = memoryview(payload)
        self.bufs = bufs  # (offset, size) in payload
        self.used: set[int] = set()
        self.nodes = 0
        self.device = device

    def take(self, idx: Any) -> tuple[int, int]:
        if type(idx) is not int or not 0 <= idx < len(self.bufs) or idx in self.used:
            raise CodecError("a value names a buffer that is missing or already used")
        self.used.add(idx)
        return self.bufs[idx]

    def count(self, n: int = 1) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise CodecError(f"more than {MAX_NODES} values")


def decode(payload: bytes | bytearray, *, max_bytes: int = MAX_BYTES, device: str = "cpu") -> Any:
    """Decode a payload from `codec.encode`, validating everything; CodecError if anything is off."""
    size = len(payload)
    if size > max_bytes:
        raise CodecError(f"a frame of {size} bytes, over the {max_bytes}-byte cap")
    if size < 4:
        raise CodecError("truncated frame")
    (hlen,) = struct.unpack("!I", bytes(payload[:4]))
    if hlen > size - 4:
        raise CodecError("truncated frame header")
    if hlen > MAX_HEADER:
        raise CodecError(f"a frame header over the {MAX_HEADER}-byte cap")
    try:
        header = json.loads(
            bytes(payload[4 : 4 + hlen]).decode("utf-8"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise CodecError("a frame header that is not JSON") from None
    if type(header) is not dict or type(header.get("b")) is not list or len(header["b"]) > MAX_NODES:
        raise CodecError("bad frame header")
    sizes = header["b"]
    if not all(type(s) is int and s >= 0 for s in sizes) or 4 + hlen + sum(sizes) != size:
        raise CodecError("frame buffer sizes do not add up")
    bufs, pos = [], 4 + hlen
    for s in sizes:
        bufs.append((pos, s))
        pos += s
    frame = _Frame(payload, bufs, device)
    frame.count(len(bufs))
    return _dec(header.get("v"), frame, 0)


def _dec(node: Any, frame: _Frame, depth: int) -> Any:
    frame.count()
    if depth > MAX_DEPTH:
        raise CodecError(f"values nested more than {MAX_DEPTH} deep")
    if node is None or type(node) in (bool, int, float):
        return node
    if type(node) is str:
        return _string(node)
    if type(node) is list:  # a row: a tuple of plain scalars (numbers already checked by the parse hooks)
        return _row(node, frame)
    if type(node) is not dict or type(node.get("t")) is not str:
        raise CodecError("malformed value")
    kind = node["t"]
    if kind in ("tuple", "list"):
        items = [_dec(v, frame, depth + 1) for v in _list(node.get("v"), frame)]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        keys, vals = _list(node.get("k"), frame), _list(node.get("v"), frame)
        if len(keys) != len(vals) or not all(type(k) is int or type(k) is str for k in keys):
            raise CodecError("malformed dict")
        return {_key(k): _dec(v, frame, depth + 1) for k, v in zip(keys, vals, strict=True)}
    if kind == "float":
        if node.get("v") not in ("nan", "inf", "-inf"):
            raise CodecError("malformed float")
        return float(node["v"])
    if kind == "dtype":
        if node.get("v") not in DTYPES:
            raise CodecError("unknown dtype")
        return DTYPES[node["v"]]
    if kind == "opaque":
        name = node.get("v")
        return Opaque(name[:200] if type(name) is str and name.isprintable() else "unknown")
    if kind == "tensor" or kind == "ndarray":
        return _dec_array(node, frame, kind)
    if kind == "generator":
        return _dec_generator(node, frame)
    raise CodecError("unknown value kind")


def _row(items: list[Any], frame: _Frame) -> tuple[Any, ...]:
    _list(items, frame)
    frame.nodes += len(items)
    for v in items:
        kind = type(v)
        if kind is str:
            _string(v)
        elif v is not None and kind is not bool and kind is not int and kind is not float:
            raise CodecError("a row holds a value that is not a plain number or string")
    return tuple(items)


def _string(text: str) -> str:
    if len(text) > MAX_STRING:
        raise CodecError(f"a string over {MAX_STRING} characters")
    return text


def _key(k: int | str) -> int | str:
    return _string(k) if type(k) is str else k


def _list(v: Any, frame: _Frame) -> list[Any]:
    if type(v) is not list:
        raise CodecError("malformed container")
    if frame.nodes + len(v) > MAX_NODES:
        raise CodecError(f"more than {MAX_NODES} values")
    return v


def _shape(shape: Any, itemsize: int, size: int) -> list[int]:
    """The dimensions, checked one by one against the buffer before they are multiplied."""
    if type(shape) is not list or len(shape) > MAX_DIMS:
        raise CodecError(f"a tensor shape that is not a list of at most {MAX_DIMS} sizes")
    numel = 1
    for dim in shape:
        if type(dim) is not int or not 0 <= dim <= MAX_BYTES:
            raise CodecError("a tensor size that is not a natural number up to the frame cap")
        numel *= dim  # both factors at most MAX_BYTES: no huge product is ever formed
        if numel * itemsize > size:
            raise CodecError("tensor size does not match its buffer")
    if numel * itemsize != size:
        raise CodecError("tensor size does not match its buffer")
    return shape


def _dec_array(node: dict[str, Any], frame: _Frame, kind: str) -> Any:
    if not set(node) <= (_TENSOR_KEYS if kind == "tensor" else _ARRAY_KEYS):
        raise CodecError("a tensor with fields the grader did not ask for")
    name = node.get("dtype")
    if type(name) is not str or name not in DTYPES:
        raise CodecError("a tensor of an unknown dtype")
    device = _device(node.get("device", "cpu"), frame.device) if kind == "tensor" else "cpu"
    offset, size = frame.take(node.get("buf"))
    shape = _shape(node.get("shape"), ITEM_SIZES[name], size)
    dtype = DTYPES[name]
    if size == 0:
        flat = torch.empty(0, dtype=dtype)
    elif isinstance(frame.payload, bytearray):
        flat = torch.frombuffer(frame.payload, dtype=dtype, count=size // ITEM_SIZES[name], offset=offset)
        if flat.data_ptr() % ITEM_SIZES[name]:  # a view as aligned as any slice of a tensor, or a copy
            flat = flat.clone()
    else:
        flat = torch.frombuffer(bytearray(frame.view[offset : offset + size]), dtype=dtype)
    t = flat.reshape(shape)
    if kind == "ndarray":
        return t.numpy()
    if device != "cpu":
        try:
            t = t.to(device)
        except (RuntimeError, AssertionError, ValueError):
            raise CodecError(f"a tensor on {device}, which this process cannot use") from None
    return t


def _device(name: Any, run: str) -> str:
    """`name` if a tensor may be built there: the CPU, or the device type the run uses."""
    if type(name) is not str or _DEVICE.fullmatch(name) is None:
        raise CodecError("a tensor on a device the grader does not know")
    if name == "cpu":
        return name
    try:
        wanted = torch.device(run).type != "cpu" and torch.device(name).type == torch.device(run).type
    except RuntimeError:
        wanted = False
    if not wanted:
        raise CodecError(f"a tensor on {name}, but this run uses {run}")
    return name


def _dec_generator(node: dict[str, Any], frame: _Frame) -> torch.Generator:
    """A fresh CPU torch.Generator in the state that was sent (its Mersenne Twister state)."""
    offset, size = frame.take(node.get("buf"))
    if size != _GENERATOR_STATE_BYTES:
        raise CodecError("malformed generator state")
    g = torch.Generator()
    try:
        g.set_state(torch.frombuffer(bytearray(frame.view[offset : offset + size]), dtype=torch.uint8))
    except (RuntimeError, ValueError):
        raise CodecError("malformed generator state") from None
    return g
