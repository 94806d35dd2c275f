"""Graders for topic `einsum`: twelve contractions, each compared with the model solution.

Inputs come from `cases.sizes`: seeded draws in which every axis has its
own size, so a swapped or transposed letter fails on shape or on values. The rules (one
einsum, no loops, no matmul family, no @) are enforced by the engine from course.toml,
before any check runs and again while the student's code runs.
"""

from __future__ import annotations

import torch

from dlgrade.kit import cases, patterns
from dlgrade.kit.cases import FLOAT_DTYPES, Case
from dlgrade.kit.checks import check, check_each, expect_close, expect_sequence, expect_tensor

# The axes of each exercise's inputs, one comma-separated group per argument.
OPERANDS = {
    "matvec": "mn,n",
    "matmul": "mn,np",
    "trace": "nn",
    "outer": "m,n",
    "batch_matmul": "bnm,bmp",
    "batch_trace": "bnn",
    "attention_scores": "bqd,bkd",
    "attention": "bqd,bkd,bkv",
    "bilinear": "n,nn,n",
    "batch_bilinear": "bn,nn,bn",
    "contract_4d": "abcd,cdef",
    "multihead_scores": "bhqd,bhkd",
}
BATCHED = (
    "batch_matmul",
    "batch_trace",
    "attention_scores",
    "attention",
    "batch_bilinear",
    "multihead_scores",
)
SCALED = ("attention_scores", "multihead_scores", "attention")
ATTENTION_ITEMS = ("out", "weights")


def einsum_cases(
    fn: str,
    what: str,
    n: int,
    device: str,
    *,
    ones: str = "",
    high: int = 8,
    fixed: dict[str, int] | None = None,
) -> list[Case]:
    """`n` cases of `fn` on shapes whose axes all differ, alternating float32 and float64."""
    spec = OPERANDS[fn]
    out = []
    for i, dims in enumerate(
        cases.sizes(spec.replace(",", ""), n, seed=cases.seed_for(fn), ones=ones, high=high)
    ):
        dims.update(fixed or {})
        dtype = FLOAT_DTYPES[i % len(FLOAT_DTYPES)]
        args = cases.shaped(spec, dims, seed=cases.seed_for(fn, what, i), dtype=dtype, device=device)
        out.append(Case(cases.label_all(args, what), args))
    return out


def agree(student, reference, fn: str, case_list: list[Case]) -> None:
    names = ATTENTION_ITEMS if fn == "attention" else ()
    patterns.agree(student, reference, fn, case_list, names=names)


@check_each(
    OPERANDS,
    "agrees with the reference on shapes whose axes all differ",
    points=4,
    hint="one letter per axis, in the order the shapes list them; letters left out of the output are summed",
)
def test_agrees(student, reference, device, fn):
    agree(student, reference, fn, einsum_cases(fn, "random input", 6, device))


@check_each(
    BATCHED,
    "keeps a batch of one",
    points=1,
    hint="a batch of size 1 keeps its axis: keep the batch letter in the output and do not squeeze",
)
def test_batch_of_one(student, reference, device, fn):
    agree(student, reference, fn, einsum_cases(fn, "a batch of one", 2, device, ones="b"))


@check_each(
    SCALED,
    "scores are scaled by 1/sqrt(d)",
    points=1,
    hint="divide the scores by math.sqrt(d), d being the size of Q's last axis (here 16, so by 4)",
)
def test_scaled(student, reference, device, fn):
    agree(student, reference, fn, einsum_cases(fn, "d=16", 2, device, fixed={"d": 16}))


@check_each(
    OPERANDS,
    "right values without changing its inputs",
    points=1,
    hint="build the result out of place; never write into A, B, Q, K or V",
    hint_when=("modified",),
)
def test_unmodified(student, reference, device, fn):
    names = ATTENTION_ITEMS if fn == "attention" else ()
    patterns.unmodified(student, reference, fn, einsum_cases(fn, "inputs kept", 2, device), names=names)


@check_each(OPERANDS, "agrees on larger shapes", points=2, hidden=True)
def test_hidden_larger(student, reference, device, fn):
    agree(student, reference, fn, einsum_cases(fn, "larger", 4, device, high=11))


# --- attention: the two halves of the result, each on its own ------------------------------


@check(
    "attention",
    "weights: a softmax over the key axis (every row sums to 1)",
    points=2,
    hint="softmax over dim=-1 of the (b, q, k) scores: fixing b and q, the weights over k sum to 1",
)
def test_attention_weights(student, reference, device):
    for case in einsum_cases("attention", "random queries and keys", 4, device):
        got = expect_sequence(student.attention(*case.args), 2, case=case.label)
        weights = expect_tensor(got[1], case=case.label, what="weights")
        expected = reference.attention(*case.args)[1]
        if weights.shape == expected.shape:
            total = weights.sum(dim=-1)
            expect_close(
                total,
                torch.ones_like(total),
                case=case.label,
                what="the weights summed over the key axis",
                rtol=1e-5,
                atol=1e-5,
            )
        expect_close(weights, expected, case=case.label, what="weights")


@check(
    "attention",
    "out: the weighted sum of V",
    points=2,
    hint="out (b, q, v) sums weights (b, q, k) times V (b, k, v) over k",
)
def test_attention_out(student, reference, device):
    for case in einsum_cases("attention", "random queries, keys and values", 4, device):
        got = expect_sequence(student.attention(*case.args), 2, case=case.label)
        expect_close(got[0], reference.attention(*case.args)[0], case=case.label, what="out")


@check(
    "attention",
    "large scores stay finite",
    points=1,
    hint="scores in the thousands overflow exp: subtract each row's max before exp, or use torch.softmax "
    "(allowed here)",
    hint_when=("nonfinite",),
)
def test_attention_large(student, reference, device):
    big = [
        Case(c.label, (c.args[0] * 100.0, c.args[1] * 100.0, c.args[2]))
        for c in einsum_cases("attention", "queries and keys times 100", 2, device)
    ]
    agree(student, reference, "attention", big)


@check("attention", "large scores stay finite on other inputs", points=1, hidden=True)
def test_attention_hidden_large(student, reference, device):
    big = [
        Case(c.label, (c.args[0] * 30.0, c.args[1] * 30.0, c.args[2]))
        for c in einsum_cases("attention", "large queries and keys", 2, device)
    ]
    agree(student, reference, "attention", big)
