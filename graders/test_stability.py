"""Graders for topic `stability`: logsumexp, stable_softmax, log_softmax, clip_grad_norm.

Every check compares the student's function with the model solution on named cases; the
model solution is itself tested against torch's built-ins (tests/test_reference.py).
"""

from __future__ import annotations

import math

import torch

from dlgrade.core.calls import Request
from dlgrade.core.codec import dtype_name
from dlgrade.engine.student import StudentModule
from dlgrade.kit import patterns
from dlgrade.kit.cases import FLOAT_DTYPES, Case, dims_of, label, randn, random_cases, seed_for
from dlgrade.kit.checks import check, expect_close, expect_number, expect_sequence, expect_unmodified

INF = math.inf


def large(device: str, sign: float = 1.0, near_max: bool = True) -> list[Case]:
    """Values where exp overflows (or underflows, with sign -1), along several dims; with
    `near_max`, also values near the dtype's largest (finfo.max / 4)."""
    out = []
    for dtype in FLOAT_DTYPES:
        big = torch.finfo(dtype).max / 4
        rows = [
            torch.tensor([1000.0, 2000.0, 3000.0], dtype=dtype, device=device),
            torch.tensor([[1e30, 2e30, 3e30], [5.0, 1e30, -1e30]], dtype=dtype, device=device),
            *([torch.tensor([[big, big / 2], [big, -big]], dtype=dtype, device=device)] if near_max else []),
            randn(
                (3, 4, 2),
                seed=seed_for("large", dtype),
                dtype=dtype,
                scale=500.0,
                shift=5000.0,
                device=device,
            ),
        ]
        for x in rows:
            x = sign * x
            for dim in (0, -1):
                out.append(Case(label(x, "large magnitudes", dim=dim), (x,), {"dim": dim}))
    return out


def near_max(device: str) -> list[Case]:
    """Values near the dtype's largest (finfo.max / 4), both signs, along both dims."""
    out = []
    for dtype in FLOAT_DTYPES:
        big = torch.finfo(dtype).max / 4
        for sign in (1.0, -1.0):
            x = sign * torch.tensor([[big, big / 2], [big, -big]], dtype=dtype, device=device)
            words = "near the dtype's largest value"
            out += [Case(label(x, words, dim=d), (x,), {"dim": d}) for d in (0, -1)]
    return out


def infinities(device: str) -> list[Case]:
    """-inf slices, +inf entries and NaN, where the contract defines the answer."""
    out = []
    for dtype in FLOAT_DTYPES:
        x = torch.tensor([[-INF, -INF, -INF], [0.0, 1.0, 2.0]], dtype=dtype, device=device)
        out.append(Case(label(x, "a row of all -inf", dim=1), (x,), {"dim": 1}))
        x = torch.tensor([[1.0, INF, 3.0], [INF, -INF, 0.0]], dtype=dtype, device=device)
        out.append(Case(label(x, "+inf entries", dim=-1), (x,), {"dim": -1}))
        x = torch.tensor([[1.0, math.nan], [2.0, 3.0]], dtype=dtype, device=device)
        out.append(Case(label(x, "a NaN entry", dim=0), (x,), {"dim": 0}))
    return out


def neg_inf_entries(device: str) -> list[Case]:
    """Some entries -inf (masked logits), the rest finite."""
    out = []
    for dtype in FLOAT_DTYPES:
        x = torch.tensor([[0.0, -INF, 1.0], [-INF, 2.0, -INF]], dtype=dtype, device=device)
        out += [Case(label(x, "masked (-inf) entries", dim=-1), (x,), {"dim": -1})]
        x = randn((4, 3), seed=seed_for("masked", dtype), dtype=dtype, scale=100.0, device=device)
        x[1, :2] = -INF
        x[3, 0] = -INF
        out += [Case(label(x, "large logits with -inf entries", dim=1), (x,), {"dim": 1})]
    return out


def every_dim(name: str, shape: tuple[int, ...], device: str) -> list[Case]:
    """Logits of magnitude ~1e4 in a 3-d tensor, along each of its dims, positive and negative."""
    cases = []
    for dtype in FLOAT_DTYPES:
        x = randn(shape, seed=seed_for(name, dtype), dtype=dtype, scale=1e4, device=device)
        cases += [Case(label(x, dim=d), (x,), {"dim": d}) for d in dims_of(shape)]
    return cases


def hidden_random(name: str, device: str) -> list[Case]:
    return list(random_cases(f"{name}/hidden", 10, device=device, scale=60.0, max_dims=5))


def left_out(name: str, device: str) -> list[Case]:
    """3-d inputs of three different sizes, called with `dim` (and `keepdim`) left out: the
    signature's defaults (the last dim, no keepdim) give another shape than any other dim."""
    cases = []
    for dtype in FLOAT_DTYPES:
        x = randn((2, 3, 4), seed=seed_for(name, "defaults", dtype), dtype=dtype, device=device)
        cases.append(Case(label(x, "dim left out (the default, -1)"), (x,), {}))
    return cases


# --- logsumexp ---------------------------------------------------------------------------


@check(
    "logsumexp",
    "agrees with torch.logsumexp on random inputs",
    points=3,
    hint="any dim, negative too, and keepdim both ways",
)
def test_logsumexp_random(student: StudentModule, reference, device):
    patterns.agree(
        student, reference, "logsumexp", random_cases("logsumexp", 14, device=device, keepdim=True)
    )


@check(
    "logsumexp",
    "large inputs stay finite",
    points=2,
    hint="exp(1000.) is inf in float32 and float64: subtract the max before exp",
    hint_when=("nonfinite",),
)
def test_logsumexp_large(student, reference, device):
    patterns.agree(student, reference, "logsumexp", large(device))


@check(
    "logsumexp",
    "very negative inputs stay finite",
    points=1,
    hint="exp(-1000.) underflows to 0 and log(0) is -inf: shift by the max",
    hint_when=("nonfinite",),
)
def test_logsumexp_negative(student, reference, device):
    patterns.agree(student, reference, "logsumexp", large(device, sign=-1.0))


@check(
    "logsumexp",
    "-inf slices give -inf, +inf gives +inf, NaN propagates",
    points=1,
    hint="where the max is ±inf, x - max is nan: shift those slices by 0 instead",
)
def test_logsumexp_infinities(student, reference, device):
    patterns.agree(student, reference, "logsumexp", infinities(device))


@check(
    "logsumexp",
    "right values without changing its input",
    points=1,
    hint="x -= m changes the caller's tensor; write x - m",
    hint_when=("modified",),
)
def test_logsumexp_inplace(student, reference, device):
    patterns.unmodified(
        student, reference, "logsumexp", random_cases("logsumexp/inplace", 4, device=device, keepdim=True)
    )


@check(
    "logsumexp",
    "its gradient equals torch.logsumexp's (the softmax)",
    points=1,
    hint="build the result from x with tensor operations; no .detach() on the path from x",
    hint_when=("gradient",),
)
def test_logsumexp_gradient(student, reference, device):
    patterns.same_gradient(
        student, reference, "logsumexp", random_cases("logsumexp/grad", 6, device=device, keepdim=True)
    )


@check(
    "logsumexp",
    "a left-out dim is the last one (the signature's default, dim=-1, keepdim=False)",
    points=1,
    hint="keep the signature's defaults: def logsumexp(x, dim=-1, keepdim=False)",
)
def test_logsumexp_defaults(student, reference, device):
    patterns.agree(student, reference, "logsumexp", left_out("logsumexp", device))


@check("logsumexp", "agrees on larger random inputs", points=2, hidden=True)
def test_logsumexp_hidden_random(student, reference, device):
    patterns.agree(student, reference, "logsumexp", hidden_random("logsumexp", device))


@check("logsumexp", "handles masked (-inf) entries", points=1, hidden=True)
def test_logsumexp_hidden_masked(student, reference, device):
    patterns.agree(student, reference, "logsumexp", neg_inf_entries(device))


# --- stable_softmax ----------------------------------------------------------------------


@check(
    "stable_softmax",
    "agrees with torch.softmax on random inputs",
    points=3,
    hint="softmax along `dim` (negative dims too), same shape and dtype as x",
)
def test_softmax_random(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", random_cases("softmax", 14, device=device))


@check(
    "stable_softmax",
    "large logits stay finite",
    points=2,
    hint="[1000., 2000., 3000.] must give [0., 0., 1.]: subtract the max before exp",
    hint_when=("nonfinite",),
)
def test_softmax_large(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", large(device) + large(device, sign=-1.0))


@check(
    "stable_softmax",
    "-inf entries get probability 0",
    points=1,
    hint="exp(-inf - m) is 0 as long as m is finite",
)
def test_softmax_masked(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", neg_inf_entries(device))


@check(
    "stable_softmax",
    "every slice sums to 1",
    points=1,
    hint="normalise by the sum along the same dim, with keepdim=True",
)
def test_softmax_sums(student, reference, device):
    for case in list(random_cases("softmax/sums", 6, device=device)) + large(device)[::3]:
        got = expect_close(
            student.stable_softmax(*case.args, **case.kwargs),
            reference.stable_softmax(*case.args, **case.kwargs),
            case=case.label,
        )
        total = got.sum(dim=case.kwargs["dim"])
        expect_close(
            total, torch.ones_like(total), case=case.label, what="the sum along dim", rtol=1e-5, atol=1e-5
        )


@check(
    "stable_softmax",
    "right values without changing its input",
    points=1,
    hint="x -= m changes the caller's tensor; write x - m",
    hint_when=("modified",),
)
def test_softmax_inplace(student, reference, device):
    patterns.unmodified(
        student, reference, "stable_softmax", random_cases("softmax/inplace", 4, device=device)
    )


@check(
    "stable_softmax",
    "its gradient equals torch.softmax's",
    points=1,
    hint="build the result from x with tensor operations; no .detach() on the path from x",
    hint_when=("gradient",),
)
def test_softmax_gradient(student, reference, device):
    patterns.same_gradient(
        student, reference, "stable_softmax", random_cases("softmax/grad", 6, device=device)
    )


@check(
    "stable_softmax",
    "a left-out dim is the last one (the signature's default, dim=-1)",
    points=1,
    hint="keep the signature's defaults: def stable_softmax(x, dim=-1)",
)
def test_softmax_defaults(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", left_out("stable_softmax", device))


@check("stable_softmax", "agrees on larger random inputs", points=2, hidden=True)
def test_softmax_hidden_random(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", hidden_random("softmax", device))


@check("stable_softmax", "extreme logits along every dim", points=1, hidden=True)
def test_softmax_hidden_extreme(student, reference, device):
    patterns.agree(student, reference, "stable_softmax", every_dim("softmax/extreme", (2, 3, 4), device))


# --- log_softmax -------------------------------------------------------------------------


@check(
    "log_softmax",
    "agrees with torch.log_softmax on random inputs",
    points=3,
    hint="log_softmax along `dim` (negative dims too), same shape and dtype as x",
)
def test_log_softmax_random(student, reference, device):
    patterns.agree(student, reference, "log_softmax", random_cases("log_softmax", 14, device=device))


@check(
    "log_softmax",
    "large logits stay finite",
    points=1,
    hint="[1000., 2000., 3000.] must give [-2000., -1000., 0.]: the log of a softmax that underflowed "
    "to 0 is -inf; work in log space, (x - m) - log Σ exp(x - m)",
    hint_when=("nonfinite",),
)
def test_log_softmax_large(student, reference, device):
    cases = large(device, near_max=False) + large(device, sign=-1.0, near_max=False)
    patterns.agree(student, reference, "log_softmax", cases)


@check(
    "log_softmax",
    "precise near the dtype's largest value: subtract the max first",
    points=1,
    hint="x - logsumexp(x) subtracts two numbers near finfo.max and cancels (the small answer, "
    "like -0.693, is lost); (x - m) - log Σ exp(x - m) subtracts the max first and keeps it",
)
def test_log_softmax_near_max(student, reference, device):
    patterns.agree(student, reference, "log_softmax", near_max(device))


@check(
    "log_softmax",
    "-inf entries stay -inf, the rest stays finite",
    points=1,
    hint="(x - m) - log Σ exp(x - m) keeps -inf entries at -inf and the rest finite",
)
def test_log_softmax_masked(student, reference, device):
    patterns.agree(student, reference, "log_softmax", neg_inf_entries(device))


@check(
    "log_softmax",
    "right values without changing its input",
    points=1,
    hint="x -= m changes the caller's tensor; write x - m",
    hint_when=("modified",),
)
def test_log_softmax_inplace(student, reference, device):
    patterns.unmodified(
        student, reference, "log_softmax", random_cases("log_softmax/inplace", 4, device=device)
    )


@check(
    "log_softmax",
    "its gradient equals torch.log_softmax's",
    points=1,
    hint="build the result from x with tensor operations; no .detach() on the path from x",
    hint_when=("gradient",),
)
def test_log_softmax_gradient(student, reference, device):
    patterns.same_gradient(
        student, reference, "log_softmax", random_cases("log_softmax/grad", 6, device=device)
    )


@check(
    "log_softmax",
    "a left-out dim is the last one (the signature's default, dim=-1)",
    points=1,
    hint="keep the signature's defaults: def log_softmax(x, dim=-1)",
)
def test_log_softmax_defaults(student, reference, device):
    patterns.agree(student, reference, "log_softmax", left_out("log_softmax", device))


@check("log_softmax", "agrees on larger random inputs", points=2, hidden=True)
def test_log_softmax_hidden_random(student, reference, device):
    patterns.agree(student, reference, "log_softmax", hidden_random("log_softmax", device))


@check("log_softmax", "extreme logits along every dim", points=1, hidden=True)
def test_log_softmax_hidden_extreme(student, reference, device):
    patterns.agree(student, reference, "log_softmax", every_dim("log_softmax/extreme", (3, 2, 5), device))


# --- clip_grad_norm ------------------------------------------------------------------------


def gradients(what: str, shapes: list[tuple[int, ...]], dtype: torch.dtype, device: str, **kw: float) -> Case:
    """A list of gradients of `shapes` (scales differ per tensor, so per-tensor norms differ)."""
    seed = seed_for("clip", what, shapes, dtype, sorted(kw.items()))
    grads = [
        randn(s, seed=seed + i, dtype=dtype, scale=0.5 + 1.5 * i, device=device) for i, s in enumerate(shapes)
    ]
    shown = ", ".join(str(s) for s in shapes)
    params = ", ".join(f"{k}={v}" for k, v in kw.items())
    return Case(
        f"{what}, {len(grads)} {dtype_name(dtype)} gradients of shapes {shown}, {params}", (grads,), dict(kw)
    )


def clipped_agree(
    student: StudentModule,
    reference,
    cases: list[Case],
    *,
    unmodified: bool = False,
    rtol: float | None = None,
) -> None:
    """(clipped, total_norm): a list of tensors like the reference's and a float close to its norm.

    `rtol` loosens the clipped values' comparison for a check about something else than eps
    (a default eps of 1e-6 moves them by about 1e-6 / total_norm, relatively)."""
    for case, call in zip(
        cases, student.calls("clip_grad_norm", [Request(c.args, c.kwargs) for c in cases]), strict=False
    ):
        exp_clipped, exp_norm = reference.clip_grad_norm(*case.args, **case.kwargs)
        clipped, norm = expect_sequence(
            call.value, 2, case=case.label, what="the result (clipped, total_norm)"
        )
        items = expect_sequence(list(clipped) if isinstance(clipped, tuple) else clipped, len(exp_clipped),
                                case=case.label, what="clipped")  # fmt: skip
        for i, (got, exp) in enumerate(zip(items, exp_clipped, strict=True)):
            expect_close(got, exp, case=case.label, what=f"clipped[{i}]", rtol=rtol)
        got_norm = expect_number(norm, case=case.label, what="total_norm")
        expect_close(torch.tensor(got_norm, dtype=torch.float64), torch.tensor(exp_norm, dtype=torch.float64),
                     case=case.label, what="total_norm", rtol=1e-5, atol=1e-8)  # fmt: skip
        if unmodified:
            names = [f"grads[{i}]" for i in range(len(case.args[0]))]
            expect_unmodified(case.args[0], call.args_after[0], case=case.label, names=names)


@check(
    "clip_grad_norm",
    "one norm over all gradients together, one scale factor",
    points=2,
    hint="total_norm = sqrt of the sum of every squared entry of every tensor; clipping each tensor by its "
    "own norm gives another direction",
)
def test_clip_scales_together(student, reference, device):
    cases = [
        gradients("above max_norm", [(3, 4), (5,), (2, 2, 3)], torch.float32, device, max_norm=1.0),
        gradients("above max_norm", [(6,), (4, 3)], torch.float64, device, max_norm=2.5),
        gradients("one gradient", [(7, 2)], torch.float64, device, max_norm=0.5),
    ]
    clipped_agree(student, reference, cases, rtol=1e-5)  # eps has its own check


@check(
    "clip_grad_norm",
    "gradients within max_norm come back unscaled",
    points=1,
    hint="the factor is min(1, max_norm / (total_norm + eps)): never scale up",
)
def test_clip_below_max(student, reference, device):
    cases = [gradients("below max_norm", [(3, 4), (5,)], dt, device, max_norm=100.0) for dt in FLOAT_DTYPES]
    clipped_agree(student, reference, cases)


@check(
    "clip_grad_norm",
    "eps in the factor: max_norm / (total_norm + eps)",
    points=1,
    hint="eps goes into the denominator next to total_norm, so a large eps scales a little more",
)
def test_clip_eps(student, reference, device):
    cases = [gradients("a large eps", [(2, 3), (4,)], torch.float64, device, max_norm=1.0, eps=0.5)]
    clipped_agree(student, reference, cases)


@check(
    "clip_grad_norm",
    "leaves the gradients unchanged",
    points=1,
    hint="g.mul_(factor) scales the caller's tensors: return new ones (g * factor)",
    hint_when=("modified",),
)
def test_clip_inplace(student, reference, device):
    cases = [gradients("above max_norm", [(3, 4), (5,)], torch.float64, device, max_norm=1.0)]
    clipped_agree(student, reference, cases, unmodified=True)


@check("clip_grad_norm", "agrees on many gradients of mixed shapes", points=1, hidden=True)
def test_clip_hidden(student, reference, device):
    shapes = [(8, 16), (16,), (16, 4, 3, 3), (10,), (1,), (5, 5)]
    cases = [
        gradients("many", shapes, torch.float32, device, max_norm=3.0),
        gradients("many", shapes[:3], torch.float64, device, max_norm=1e-3),
    ]
    clipped_agree(student, reference, cases)
