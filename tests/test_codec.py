"""The wire format carries plain data only, and the decoder trusts nothing."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch

from dlgrade.core.codec import DTYPES, CodecError, Opaque, decode, encode


@pytest.mark.parametrize("dtype", list(DTYPES.values()), ids=str)
def test_tensors_round_trip_bit_for_bit(dtype: torch.dtype) -> None:
    x = (torch.arange(12, dtype=torch.float64).reshape(3, 4) - 5).to(dtype)
    y = decode(encode(x))
    assert type(y) is torch.Tensor and y.dtype == dtype and y.shape == x.shape
    assert torch.equal(y, x)


def test_containers_numbers_and_specials_round_trip() -> None:
    value = {
        "a": (1, 2.5, None, True, "s"),
        "b": [math.inf, -math.inf],
        3: torch.float32,
        "empty": torch.empty(0, 3),
        "scalar": torch.tensor(2.0),
        "size": torch.Size([2, 3]),
    }
    out = decode(encode(value))
    assert out["a"] == (1, 2.5, None, True, "s") and out["b"] == [math.inf, -math.inf]
    assert out[3] is torch.float32 and out["empty"].shape == (0, 3) and out["scalar"].item() == 2.0
    assert out["size"] == (2, 3) and type(out["size"]) is tuple
    assert math.isnan(decode(encode(float("nan"))))


def test_numpy_values_become_plain() -> None:
    arr = decode(encode(np.arange(4.0)))
    assert isinstance(arr, np.ndarray) and arr.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert decode(encode(np.float32(1.5))) == 1.5 and decode(encode(np.int64(3))) == 3


def test_no_object_crosses_as_itself() -> None:
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    sub = torch.zeros(2).as_subclass(Liar)
    opaque = decode(encode(sub))
    assert isinstance(opaque, Opaque) and opaque.type_name.endswith("<locals>.Liar")
    assert isinstance(decode(encode(lambda: 1)), Opaque)
    assert isinstance(decode(encode({(1, 2): 3})), Opaque)  # tuple keys are not plain data
    t = torch.ones(2, requires_grad=True) * 2
    assert decode(encode(t)).requires_grad is False


def _frame(header: dict, *buffers: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!I", len(raw)) + raw + b"".join(buffers)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00\x00\x00\xffxx",
        _frame({"v": {"t": "pickle", "v": "x"}, "b": []}),
        _frame({"v": {"t": "tensor", "dtype": "object", "shape": [1], "buf": 0}, "b": [8]}, b"\0" * 8),
        _frame({"v": {"t": "tensor", "dtype": "float32", "shape": [3], "buf": 0}, "b": [8]}, b"\0" * 8),
        _frame({"v": {"t": "tensor", "dtype": "float32", "shape": [-1], "buf": 0}, "b": [4]}, b"\0" * 4),
        _frame({"v": {"t": "tensor", "dtype": "float32", "shape": [1], "buf": 5}, "b": [4]}, b"\0" * 4),
        _frame({"v": 1, "b": [10]}, b"\0" * 4),
        _frame({"v": {"t": "float", "v": "1e999x"}, "b": []}),
    ],
)
def test_malformed_frames_are_rejected(payload: bytes) -> None:
    with pytest.raises(CodecError):
        decode(payload)


def test_depth_is_capped() -> None:
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(CodecError):
        encode(deep)


def test_a_size_one_tensor_with_a_zero_stride_is_sent() -> None:
    x = torch.tensor([3.5]).expand(1, 1, 1).sum(0, keepdim=True).as_strided((1,), (0,))
    assert x.stride() == (0,)
    y = decode(encode(x))
    assert torch.equal(y, torch.tensor([3.5]))


def test_a_cpu_generator_travels_as_its_state_and_a_bad_state_is_refused() -> None:
    g = torch.Generator().manual_seed(7)
    torch.rand(3, generator=g)
    (copy,) = decode(encode((g,)))
    assert type(copy) is torch.Generator and copy is not g
    assert torch.equal(torch.rand(5, generator=copy), torch.rand(5, generator=g))
    header = b'{"v": {"t": "generator", "buf": 0}, "b": [10]}'
    with pytest.raises(CodecError, match="malformed generator state"):
        decode(len(header).to_bytes(4, "big") + header + bytes(10))
