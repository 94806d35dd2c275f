"""Shared, seeded input generators for graders: same inputs on every run, in any order.

Seeds come from the check's own words (`seed_for("logsumexp", "random")`), never from a
global generator, so reordering or selecting checks cannot change any input. Shapes whose
axes must all differ (`sizes`) come from a generator seeded the same way.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from dlgrade.core.codec import dtype_name
from dlgrade.core.declare import GraderMistake
from dlgrade.core.secret import salted

FLOAT_DTYPES: tuple[torch.dtype, ...] = (torch.float32, torch.float64)


def seed_for(*parts: object) -> int:
    """A stable 31-bit seed from any words and numbers (salted by the course secret in a hidden
    check and where grading counts: dlgrade.core.secret)."""
    words = "/".join(map(str, parts)).encode()
    keyed = salted(words)
    return keyed if keyed is not None else zlib.crc32(words) & 0x7FFFFFFF


def generator(seed: int) -> torch.Generator:
    keyed = salted(b"generator/%d" % seed)  # a seed a grader wrote as a number is salted too
    return torch.Generator().manual_seed(seed if keyed is None else keyed)


def randn(
    shape: Sequence[int],
    *,
    seed: int,
    dtype: torch.dtype = torch.float32,
    scale: float = 1.0,
    shift: float = 0.0,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Normal samples drawn in float64 on the CPU (identical on every machine), then cast."""
    x = torch.randn(tuple(shape), generator=generator(seed), dtype=torch.float64) * scale + shift
    return x.to(dtype=dtype, device=device)


def rand(
    shape: Sequence[int],
    *,
    seed: int,
    low: float = 0.0,
    high: float = 1.0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    x = torch.rand(tuple(shape), generator=generator(seed), dtype=torch.float64) * (high - low) + low
    return x.to(dtype=dtype, device=device)


def shapes(
    seed: int,
    n: int,
    *,
    min_dims: int = 1,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 6,
    distinct: bool = False,
) -> list[tuple[int, ...]]:
    """`n` random shapes; with `distinct`, the sides of each shape differ from one another."""
    g = generator(seed)
    out = []
    for _ in range(n):
        ndim = int(torch.randint(min_dims, max_dims + 1, (), generator=g))
        if distinct:
            pool = torch.randperm(max_side - min_side + 1, generator=g)[:ndim] + min_side
            out.append(tuple(int(s) for s in pool))
        else:
            out.append(tuple(int(s) for s in torch.randint(min_side, max_side + 1, (ndim,), generator=g)))
    return out


def dims_of(shape: Sequence[int]) -> list[int]:
    """Every valid dim of a shape, positive then negative."""
    n = len(shape)
    return list(range(n)) + list(range(-n, 0))


def label(x: torch.Tensor, what: str = "", **params: Any) -> str:
    """Words for a case: 'large logits, float32 tensor of shape (2, 3), dim=0'."""
    parts = [what] if what else []
    parts.append(f"{dtype_name(x.dtype)} tensor of shape {tuple(x.shape)}")
    parts += [f"{k}={v}" for k, v in params.items()]
    return ", ".join(parts)


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments, and the words that describe them.

    `dims` names the sizes of the case's shapes ({"N": 3, "D": 5}) so that messages can say
    "(N, D) = (3, 5)" instead of bare numbers.
    """

    label: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    dims: dict[str, int] = field(default_factory=dict)


def random_cases(
    name: str,
    n: int,
    *,
    device: str | torch.device = "cpu",
    dtypes: Sequence[torch.dtype] = FLOAT_DTYPES,
    scale: float = 3.0,
    max_dims: int = 4,
    keepdim: bool = False,
) -> Iterator[Case]:
    """Random tensors of 1..max_dims dims with every dim (negative too) and both dtypes."""
    for i, shape in enumerate(shapes(seed_for(name, "shapes"), n, max_dims=max_dims)):
        dtype = dtypes[i % len(dtypes)]
        x = randn(shape, seed=seed_for(name, i), dtype=dtype, scale=scale, device=device)
        dims = dims_of(shape)
        dim = dims[int(seed_for(name, "dim", i) % len(dims))]
        kwargs: dict[str, Any] = {"dim": dim}
        if keepdim:
            kwargs["keepdim"] = bool(i % 2)
        yield Case(label(x, "random input", **kwargs), (x,), kwargs)


_POOL = 6  # draws per (axes, seed, range): checks that ask for fewer share one draw
_TRIES = 64  # per wanted draw, to find assignments that differ from the ones drawn before


@functools.cache
def _sizes(
    count: int, n: int, seed: int, low: int, high: int, salt: int | None
) -> tuple[tuple[int, ...], ...]:
    """Up to `n` different lists of `count` distinct sizes in low..high, from a seeded generator
    (salted by the course secret: `salt` keys the cache, so fixed, fresh and hidden draws never mix)."""
    if high - low + 1 < count:
        raise ValueError(f"{count} axes cannot all differ within sizes {low}..{high}")
    g = generator(seed_for("sizes", count, seed, low, high))
    out: list[tuple[int, ...]] = []
    for _ in range(n * _TRIES):
        draw = tuple(int(v) + low for v in torch.randperm(high - low + 1, generator=g)[:count])
        if draw not in out:
            out.append(draw)
            if len(out) == n:
                break
    return tuple(out)


def sizes(
    axes: str, n: int, *, seed: int, ones: str = "", low: int = 2, high: int = 8
) -> list[dict[str, int]]:
    """`n` (or fewer) different assignments of a size to each axis letter in `axes`.

    The sizes of one assignment all differ from one another (and from 1), so a swapped or
    transposed axis shows up as a wrong shape or wrong values; the axes in `ones` (a batch
    of one, say) are 1 in every assignment. Calls with the same seed, range and number of
    free axes share one draw (the first `n` of it).
    """
    letters = "".join(dict.fromkeys(axes))
    free = [a for a in letters if a not in ones]
    out = []
    salt = salted(b"sizes")  # None for fixed draws
    for draw in _sizes(len(free), max(n, _POOL), seed, low, high, salt)[:n]:
        assignment = dict(zip(free, draw, strict=True))
        out.append({a: 1 if a in ones else assignment[a] for a in letters})
    return out


def shaped(
    spec: str,
    dims: Mapping[str, int],
    *,
    seed: int,
    dtype: torch.dtype = torch.float32,
    scale: float = 1.0,
    shift: float = 0.0,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, ...]:
    """One normal tensor per comma-separated operand of `spec` ("mn,np"), sized by `dims`.

    `dims` maps every letter of `spec` to a size (an int >= 0): `{"m": 2, "n": 3, "p": 4}`
    gives shapes (2, 3) and (3, 4); `sizes(...)` draws such mappings. A letter names one
    size wherever it appears. A wrong `dims` is a GraderMistake: one line, no traceback.
    """
    _check_dims(spec, dims)
    return tuple(
        randn(
            [dims[a] for a in operand],
            seed=seed_for(seed, i),
            dtype=dtype,
            scale=scale,
            shift=shift,
            device=device,
        )
        for i, operand in enumerate(spec.split(","))
    )


def _check_dims(spec: str, dims: object) -> None:
    """`dims` must give every letter of `spec` a size (cases.shaped)."""
    letters = list(dict.fromkeys(spec.replace(",", "")))
    call = f"cases.shaped({spec!r}, dims): dims must map each of {', '.join(letters)} to a size (an int >= 0)"
    if not isinstance(dims, Mapping):
        raise GraderMistake(f"{call}; got the {type(dims).__name__} {dims!r:.80}")
    wrong = [a for a in letters if not (isinstance(dims.get(a), int) and not isinstance(dims[a], bool))]
    if wrong or any(dims[a] < 0 for a in letters):
        raise GraderMistake(f"{call}; got {dict(dims)!r}")


def label_all(tensors: Sequence[torch.Tensor], what: str = "", **params: Any) -> str:
    """Words for a case of several tensors: 'a batch of one, float64 tensors of shape (1, 3) and (3,)'."""
    if len(tensors) == 1:
        return label(tensors[0], what, **params)
    shown = [str(tuple(t.shape)) for t in tensors]
    parts = [what] if what else []
    dtypes = sorted({dtype_name(t.dtype) for t in tensors})
    parts.append(f"{'/'.join(dtypes)} tensors of shape {', '.join(shown[:-1])} and {shown[-1]}")
    parts += [f"{k}={v}" for k, v in params.items()]
    return ", ".join(parts)


# --- the corners of the unit square and two-input boolean targets (topic `xor`) ----------

TRUTH_TABLES: dict[str, tuple[float, float, float, float]] = {
    # outputs at the corners (0, 0), (0, 1), (1, 0), (1, 1), in that order
    "XOR": (0.0, 1.0, 1.0, 0.0),
    "AND": (0.0, 0.0, 0.0, 1.0),
    "OR": (0.0, 1.0, 1.0, 1.0),
    "XNOR": (1.0, 0.0, 0.0, 1.0),
    "NAND": (1.0, 1.0, 1.0, 0.0),
    "x1": (0.0, 0.0, 1.0, 1.0),
}


def corners(dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> torch.Tensor:
    """The four corners of the unit square, (4, 2), in the order of TRUTH_TABLES."""
    return torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=dtype, device=device)


def truth_table(
    name: str, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> torch.Tensor:
    return torch.tensor(TRUTH_TABLES[name], dtype=dtype, device=device)


def near_corners(
    seed: int,
    per_corner: int,
    *,
    radius: float = 0.1,
    on_circle: bool = False,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(points (4m, 2), index of the nearest corner (4m,)): uniform in the disk of `radius`
    around each corner, or evenly spaced on its circle (`on_circle`, the farthest points)."""
    g = generator(seed)
    m = per_corner
    if on_circle:
        angle = torch.arange(4 * m, dtype=torch.float64).remainder(m) * (2 * torch.pi / m)
        r = torch.full((4 * m,), radius, dtype=torch.float64)
    else:
        angle = torch.rand(4 * m, generator=g, dtype=torch.float64) * (2 * torch.pi)
        r = radius * torch.rand(4 * m, generator=g, dtype=torch.float64).sqrt()
    which = torch.arange(4).repeat_interleave(m)
    offset = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    points = corners(torch.float64)[which] + offset
    return points.to(dtype=dtype, device=device), which.to(device)


def xor_training_set(
    dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The corners and 16 points within 0.1 of each, labelled with their corner's XOR value:
    what the grader fits its linear classifier on to judge `xor_features` (and plots draw)."""
    near, which = near_corners(seed_for("xor/train"), 16, dtype=dtype, device=device)
    y = truth_table("XOR")
    return torch.cat([corners(dtype, device), near]), torch.cat([y, y[which.cpu()]])
