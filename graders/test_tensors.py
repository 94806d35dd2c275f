"""Graders for topic `tensors`: permute, spatial mean and per-channel normalisation.

Shapes come from `cases.sizes` (seeded draws) with N, C, H and W all different,
so a reshape where a permute belongs, or a reduction over the wrong axes, gives the wrong
values or the wrong shape. The permute is compared exactly: it only moves values.
"""

from __future__ import annotations

from typing import Any

from dlgrade.kit import cases, patterns
from dlgrade.kit.cases import FLOAT_DTYPES, Case
from dlgrade.kit.checks import check, expect_equal


def image_cases(
    fn: str, what: str, n: int, device: str, *, ones: str = "", high: int = 7, shift: float = 0.0, **kw: Any
) -> list[Case]:
    """`n` (N, C, H, W) batches whose four sizes differ, alternating float32 and float64."""
    out = []
    for i, dims in enumerate(cases.sizes("NCHW", n, seed=cases.seed_for(fn), ones=ones, high=high)):
        dtype = FLOAT_DTYPES[i % len(FLOAT_DTYPES)]
        (x,) = cases.shaped(
            "NCHW", dims, seed=cases.seed_for(fn, what, i), dtype=dtype, scale=3.0, shift=shift, device=device
        )
        out.append(Case(cases.label(x, what, **kw), (x,), dict(kw)))
    return out


# --- nchw_to_nhwc --------------------------------------------------------------------------


@check(
    "nchw_to_nhwc",
    "moves every value to its place (exact)",
    points=3,
    hint="reshape only relabels the shape (the values keep their memory order); moving the channel axis "
    "last needs permute, with the new order of the axes written as their old positions",
)
def test_nhwc_exact(student, reference, device):
    for case in image_cases("nchw_to_nhwc", "random images", 6, device):
        expect_equal(student.nchw_to_nhwc(*case.args), reference.nchw_to_nhwc(*case.args), case=case.label)


@check(
    "nchw_to_nhwc",
    "a batch of one and a single channel",
    points=1,
    hint="sizes of 1 are axes too: the result of (1, C, H, W) has shape (1, H, W, C)",
)
def test_nhwc_ones(student, reference, device):
    cs = image_cases("nchw_to_nhwc", "a batch of one", 2, device, ones="N")
    cs += image_cases("nchw_to_nhwc", "a single channel", 2, device, ones="C")
    for case in cs:
        expect_equal(student.nchw_to_nhwc(*case.args), reference.nchw_to_nhwc(*case.args), case=case.label)


@check("nchw_to_nhwc", "exact on larger images", points=1, hidden=True)
def test_nhwc_hidden(student, reference, device):
    for case in image_cases("nchw_to_nhwc", "larger", 3, device, high=12):
        expect_equal(student.nchw_to_nhwc(*case.args), reference.nchw_to_nhwc(*case.args), case=case.label)


# --- spatial_mean --------------------------------------------------------------------------


@check(
    "spatial_mean",
    "the mean over H and W of every image and channel",
    points=3,
    hint="reduce over the last two axes, dim=(2, 3); the result has shape (N, C)",
)
def test_spatial_mean(student, reference, device):
    patterns.agree(
        student, reference, "spatial_mean", image_cases("spatial_mean", "random images", 6, device)
    )


@check(
    "spatial_mean",
    "a batch of one keeps its axis",
    points=1,
    hint="(1, C, H, W) gives (1, C): do not squeeze",
)
def test_spatial_mean_one(student, reference, device):
    patterns.agree(
        student, reference, "spatial_mean", image_cases("spatial_mean", "a batch of one", 2, device, ones="N")
    )


@check(
    "spatial_mean",
    "right values without changing its input",
    points=1,
    hint="reduce out of place; never write into x",
    hint_when=("modified",),
)
def test_spatial_mean_unmodified(student, reference, device):
    patterns.unmodified(
        student, reference, "spatial_mean", image_cases("spatial_mean", "inputs kept", 2, device)
    )


@check("spatial_mean", "agrees on larger images", points=1, hidden=True)
def test_spatial_mean_hidden(student, reference, device):
    patterns.agree(
        student, reference, "spatial_mean", image_cases("spatial_mean", "larger", 3, device, high=12)
    )


# --- channel_normalize ---------------------------------------------------------------------


@check(
    "channel_normalize",
    "agrees with the reference, eps inside the square root",
    points=3,
    hint="mean and variance over dims (0, 2, 3) with keepdim=True; divide by sqrt(var + eps)",
)
def test_channel_normalize(student, reference, device):
    cs = image_cases("channel_normalize", "random images", 4, device, shift=2.0)
    cs += image_cases("channel_normalize", "random images, a larger eps", 2, device, shift=-1.0, eps=0.5)
    patterns.agree(student, reference, "channel_normalize", cs)


@check(
    "channel_normalize",
    "uses the biased variance",
    points=2,
    hint="divide the squared deviations by N*H*W, not N*H*W - 1: var(..., correction=0) or unbiased=False",
)
def test_channel_normalize_biased(student, reference, device):
    cs = image_cases("channel_normalize", "few values per channel", 3, device, ones="N", high=4)
    patterns.agree(student, reference, "channel_normalize", cs)


@check(
    "channel_normalize",
    "right values without changing its input",
    points=1,
    hint="x - mean makes a new tensor; x -= mean changes the caller's",
    hint_when=("modified",),
)
def test_channel_normalize_unmodified(student, reference, device):
    patterns.unmodified(
        student, reference, "channel_normalize", image_cases("channel_normalize", "inputs kept", 2, device)
    )


@check("channel_normalize", "agrees on larger images", points=1, hidden=True)
def test_channel_normalize_hidden(student, reference, device):
    cs = image_cases("channel_normalize", "larger", 3, device, high=12, shift=5.0)
    patterns.agree(student, reference, "channel_normalize", cs)
