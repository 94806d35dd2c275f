"""The wire format carries plain data only, and the decoder trusts nothing."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch

from dlgrade.core.codec import DTYPES, MAX_BYTES, CodecError, Opaque, decode, encode
from dlgrade.core.plain import MAX_HEADER, MAX_NODES, MAX_STRING
from dlgrade.sandbox import wire


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


def _header_of(payload: bytes) -> dict:
    return json.loads(payload[4 : 4 + struct.unpack("!I", payload[:4])[0]])


def test_a_tuple_of_plain_scalars_travels_as_a_bare_array() -> None:
    """An autodiff graph is thousands of tuples like ("add", 3, 5): each goes as a JSON array
    (a "row", about three times cheaper both ways than a tagged tuple) and comes back a tuple;
    a tuple holding anything else takes the tagged form, as lists always do."""
    graph = [("input", 0), ("const", -1.5), ("add", 0, 1), ("pow", 2, 0.5), (), (None, True, "s")]
    header = _header_of(encode(graph))
    assert header["v"] == {"t": "list", "v": [list(node) for node in graph]}
    assert decode(encode(graph)) == graph and all(type(n) is tuple for n in decode(encode(graph)))
    tagged = [("x", math.inf), ("x", 2**63), ("x", "y" * (MAX_STRING + 1)), ("x", (1,)), ("x", [1]),
              ("x", torch.ones(1)), (1.0,) * 2 + (np.float64(2.0),)]  # fmt: skip
    for value in tagged:
        node = _header_of(encode(value))["v"]
        assert type(node) is dict and node["t"] == "tuple", value
    assert decode(encode(tagged[0])) == ("x", math.inf) and decode(encode(tagged[4])) == ("x", [1])
    assert decode(encode(tagged[2]))[1] == Opaque("str (too long)")


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


def _header_frame(text: str, *buffers: bytes) -> bytes:
    raw = text.encode()
    return struct.pack("!I", len(raw)) + raw + b"".join(buffers)


GIANT_DIMS = ", ".join(["9" * 4200] * 200)  # 200 sizes of 4,200 digits
GIANT_SHAPE = '{"v": {"t": "tensor", "dtype": "float32", "shape": [DIMS], "buf": 0}, "b": [4]}'
GIANT_SHAPE = GIANT_SHAPE.replace("DIMS", GIANT_DIMS)


def _tensor(shape: list[int], nbytes: int, **fields) -> bytes:
    node = {"t": "tensor", "dtype": "float32", "shape": shape, "device": "cpu", "buf": 0, **fields}
    return _frame({"v": node, "b": [nbytes]}, bytes(nbytes))


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        # integers: parsed only up to 20 characters, within int64 (no 4,200-digit int is built)
        (_header_frame(GIANT_SHAPE, bytes(4)), "too many digits"),
        (_tensor([2**63 - 1] * 32, 4), "natural number up to the frame cap"),
        (_tensor([0, 2**62, 2**62], 0), "natural number up to the frame cap"),
        (_tensor([2**20, 2**20, 2**20], 4), "does not match its buffer"),
        (_tensor([1] * 33, 4), "at most 32 sizes"),
        (_tensor([True], 4), "natural number"),
        (_tensor([1], 4, device="meta"), "this run uses cpu"),
        (_tensor([1], 4, device="cuda:0"), "this run uses cpu"),
        (_tensor([1], 4, device="dlgrade-pwned " * 3), "device the grader does not know"),
        (_tensor([1], 4, layout="sparse_coo"), "fields the grader did not ask for"),
        (_frame({"v": {"t": "list", "v": [{"t": "tensor", "dtype": "float32", "shape": [1], "buf": 0}] * 2},
                 "b": [4]}, bytes(4)), "already used"),
        (_frame({"v": "x" * (MAX_STRING + 1), "b": []}), "string over"),
        (_frame({"v": {"t": "dict", "k": ["x" * (MAX_STRING + 1)], "v": [1]}, "b": []}), "string over"),
        (_frame({"v": {"t": "list", "v": list(range(MAX_NODES + 1))}, "b": []}), "more than"),
        (_frame({"v": 1, "b": [0] * (MAX_NODES + 1)}), "bad frame header"),
        (_header_frame('{"v": NaN, "b": []}'), "NaN"),
        (_header_frame('{"v": 1e999, "b": []}'), "outside the float range"),
        (_header_frame('{"v": 0.' + "1" * 100 + ', "b": []}'), "too many digits"),
        (_header_frame('{"v": ' + "[" * 100_000 + "]" * 100_000 + ', "b": []}'), "not JSON"),
        (_header_frame(" " * (MAX_HEADER + 1)), "header over"),
        (_frame({"v": {"t": "dlgrade-pwned"}, "b": []}), "unknown value kind"),
        # rows (tuples of plain scalars as bare arrays): scalars only, every cap as elsewhere
        (_frame({"v": ["add", [1, 2]], "b": []}), "not a plain number or string"),
        (_frame({"v": ["add", {"t": "tensor", "dtype": "float32", "shape": [1], "buf": 0}], "b": [4]},
                bytes(4)), "not a plain number or string"),
        (_frame({"v": ["x" * (MAX_STRING + 1)], "b": []}), "string over"),
        (_frame({"v": list(range(MAX_NODES + 1)), "b": []}), "more than"),
        (_frame({"v": {"t": "list", "v": [[0] * 1000] * (MAX_NODES // 1000)}, "b": []}), "more than"),
        (_header_frame('{"v": ["pow", 1, ' + "9" * 30 + '], "b": []}'), "too many digits"),
        (_header_frame('{"v": ["exp", 1e999], "b": []}'), "outside the float range"),
        (_header_frame('{"v": ["exp", NaN], "b": []}'), "NaN"),
    ],
)  # fmt: skip
def test_a_forged_frame_is_refused_before_anything_is_built(payload: bytes, said: str) -> None:
    with pytest.raises(CodecError, match=said) as info:
        decode(payload)
    assert "dlgrade-pwned" not in str(info.value) and "9999" not in str(info.value)


def test_a_frame_over_the_cap_is_refused_by_its_length() -> None:
    with pytest.raises(CodecError, match="over the 16-byte cap"):
        decode(encode(list(range(10))), max_bytes=16)
    assert MAX_BYTES == wire.MAX_FRAME == 1 << 28


def test_a_tensor_decodes_on_the_cpu_or_the_runs_device_only() -> None:
    payload = encode(torch.ones(3))
    assert decode(payload, device="cuda").device.type == "cpu"  # a CPU tensor stays one
    header = json.loads(payload[4 : 4 + struct.unpack("!I", payload[:4])[0]])
    header["v"]["device"] = "meta"
    with pytest.raises(CodecError, match="this run uses cuda"):
        decode(_frame(header, bytes(12)), device="cuda")


def test_a_writable_frame_is_viewed_not_copied() -> None:
    x = torch.arange(1 << 16, dtype=torch.float64)
    payload = bytearray(encode({"x": x, "y": x.numpy()}))
    out = decode(payload)
    base = torch.frombuffer(payload, dtype=torch.uint8).data_ptr()
    assert base <= out["x"].data_ptr() < base + len(payload) and torch.equal(out["x"], x)
    other = decode(bytes(payload))["x"]  # an immutable frame (a stored answer): a fresh copy
    assert not base <= other.data_ptr() < base + len(payload) and torch.equal(other, x)


def test_what_the_caps_refuse_is_sent_as_an_opaque_stand_in() -> None:
    assert decode(encode("x" * (MAX_STRING + 1))) == Opaque("str (too long)")
    assert isinstance(decode(encode(torch.zeros([1] * 33))), Opaque)
    assert isinstance(decode(encode(torch.empty(3, device="meta"))), Opaque)
    assert isinstance(decode(encode({"x" * (MAX_STRING + 1): 1})), Opaque)
