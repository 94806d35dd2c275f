"""Graders for topic `init`: Xavier and He samplers, and practice problem 4 (variance per layer).

The samplers are judged by statistics, never by the exact numbers drawn (dlgrade.kit.sampling):
on 30,000 weights or more per draw, the mean and the mean of w**2 must lie within
bounds that a correct sampler leaves with probability below 1e-10 (the exact normal tail and
the Laurent-Massart chi-square bound for normal samplers, Hoeffding for the bounded uniform
one), and the Kolmogorov-Smirnov distance to the target distribution within the
Dvoretzky-Kiefer-Wolfowitz bound of the same probability. With at most a handful of such
bounds per check, a correct sampler fails a check with probability below 1e-9.
`layer_variances` is judged exactly (the contract's draw order): its variances must equal, within a
relative 1e-3 (biased and unbiased variances both), the experiment re-run in the grading process on
the student's own initialisers, each called in the sandbox with the generator in the state the
draws before left it. Its teaching messages judge the behaviour the lesson describes: the
input's variance about 1, the first layer's factor width * Var(W) * (1/2 - 1/(2 pi)), then a
geometric-mean factor per layer of width * Var(W) / 2 (He x1, Xavier x1/2, 0.01 x0.005), within
x/÷ sqrt(2): over 40 seeds the model solution's factor stays within 15% of it (standard deviation 6%).
`gradient_variances` (the backward half: d drawn after every W, d = (d * (z > 0)) @ W.T from the
top down) is judged the same way on the same draws, with no autograd; a mismatch that equals a
known mistake re-run on those draws (no mask, d @ W, the layer below's mask, listed bottom-up) is
named. Its teaching messages: the top's variance about 1, then the geometric-mean factor per layer
width * Var(W) / 2 over all `depth` layers, within x/÷ sqrt(2): over 40 seeds the model solution's
factor stays within 7% of it for every init (standard deviation 3%).
"""

from __future__ import annotations

import math

import torch

from dlgrade.core.calls import Request
from dlgrade.engine.student import StudentModule
from dlgrade.kit import sampling
from dlgrade.kit.cases import generator, seed_for
from dlgrade.kit.checks import check, check_each, expect_tensor, fail

SAMPLERS = ("xavier_uniform", "xavier_normal", "he_normal")
INITS = (*SAMPLERS, "random_0.01")
FORMULA = {
    "xavier_uniform": "2 / (n_in + n_out)",
    "xavier_normal": "2 / (n_in + n_out)",
    "he_normal": "2 / n_in",
}


def target_var(fn: str, n_in: int, n_out: int) -> float:
    return {"he_normal": 2 / n_in, "random_0.01": 1e-4}.get(fn, 2 / (n_in + n_out))


def draw(
    student: StudentModule, fn: str, sizes: list[tuple[int, int]], what: str
) -> list[tuple[str, torch.Tensor]]:
    """The student's weights for each size, each from a freshly seeded generator, checked to be
    float32 tensors of shape (n_in, n_out)."""
    requests = [Request((n_in, n_out, generator(seed_for(fn, what, n_in, n_out)))) for n_in, n_out in sizes]
    out = []
    for (n_in, n_out), call in zip(sizes, student.calls(fn, requests), strict=False):
        case = f"{fn}({n_in}, {n_out}, generator)"
        w = expect_tensor(call.value, case=case, what="the weights")
        if tuple(w.shape) != (n_in, n_out) or w.dtype != torch.float32:
            fail(
                f"{case}: the weights are a {str(w.dtype).removeprefix('torch.')} tensor of shape "
                f"{tuple(w.shape)}; expected float32 of shape (n_in, n_out) = {(n_in, n_out)}",
                "the weights have the wrong shape or dtype",
            )
        out.append((case, w.detach().cpu()))
    return out


def moments_match(fn: str, case: str, w: torch.Tensor) -> None:
    """Mean 0 and mean(w**2) = Var(W), within bounds a correct sampler leaves with p < 1e-10."""
    n, var = w.numel(), target_var(fn, *w.shape)
    w64 = w.to(torch.float64)
    mean, square = float(w64.mean()), float((w64 * w64).mean())
    if fn == "xavier_uniform":  # w in [-a, a] and w**2 in [0, a**2]: Hoeffding for both means
        a = math.sqrt(3 * var)
        mean_tol, half = sampling.hoeffding(n, 2 * a), sampling.hoeffding(n, a * a)
        lo, hi = var - half, var + half
    else:
        mean_tol = sampling.normal_mean_bound(n, math.sqrt(var))
        lo, hi = sampling.normal_square_mean_bounds(n, var)
    if abs(mean) > mean_tol:
        fail(
            f"{case}: the weights average {mean:.4g}; a correct sampler's mean is within ±{mean_tol:.2g}",
            "the weights are not centred at 0",
        )
    if not lo <= square <= hi:
        fail(
            f"{case}: the weights have variance {square:.4g}; Var(W) = {FORMULA[fn]} = {var:.4g} "
            f"(a correct sampler lands within [{lo:.4g}, {hi:.4g}] with probability 1 - 1e-10)",
            "the variance of the weights is off",
        )


def shape_matches(fn: str, case: str, w: torch.Tensor) -> None:
    """Uniform within ±a (and flat), or normal: the KS distance within the DKW bound."""
    var = target_var(fn, *w.shape)
    eps = sampling.dkw_epsilon(w.numel())
    if fn == "xavier_uniform":
        a = math.sqrt(3 * var)
        biggest, gap = float(w.abs().max()), sampling.edge_gap(w.numel())
        if biggest > a * (1 + 1e-6):
            fail(
                f"{case}: an entry of size {biggest:.4g} lies outside ±a = ±{a:.4g}",
                "an entry lies outside ±a",
            )
        if biggest < a * (1 - gap):
            fail(
                f"{case}: the largest entry is {biggest:.6g}, short of a = {a:.6g}: {w.numel()} draws of "
                f"U(-a, a) reach beyond {a * (1 - gap):.6g} with probability 1 - 1e-10",
                "the entries stop short of ±a",
            )
        dist, words = sampling.ks_distance(w, sampling.uniform_cdf(a)), f"U(-{a:.4g}, {a:.4g})"
    else:
        dist, words = sampling.ks_distance(w, sampling.normal_cdf(math.sqrt(var))), f"N(0, {var:.4g})"
    if dist > eps:
        fail(
            f"{case}: the weights are not distributed as {words}: the largest gap between their "
            f"cumulative distribution and {words}'s is {dist:.3g} (a correct sampler's is below {eps:.3g})",
            "the weights do not follow the target distribution",
        )


# 30,000 and 40,000 weights; fans far apart: at (2, 20000) a fan-in off by one changes He's
# variance by a factor 2/3 or 2, far outside bounds of about ±5 %; at (120, 250) a fan sum off by
# one moves Xavier's a by 1/740 while 30,000 uniform draws come within 23/30,000 of a (edge_gap).
BIG = [(120, 250), (2, 20000)]


@check_each(
    SAMPLERS,
    "float32 weights of shape (n_in, n_out)",
    points=1,
    hint="the x @ W convention: n_in rows, n_out columns; torch.rand / torch.randn give float32",
)
def test_shape(student, reference, device, fn):
    draw(student, fn, [(3, 5), (1, 7), (64, 10)], "shape")


@check(
    "xavier_uniform",
    "mean 0 and variance 2 / (n_in + n_out)",
    points=2,
    hint="a = sqrt(6 / (n_in + n_out)) uses both fans; U(-a, a) has variance a**2 / 3",
)
def test_xavier_uniform_var(student, reference, device):
    for case, w in draw(student, "xavier_uniform", BIG, "moments"):
        moments_match("xavier_uniform", case, w)


@check(
    "xavier_normal",
    "mean 0 and variance 2 / (n_in + n_out)",
    points=2,
    hint="2 / (n_in + n_out) is the variance: multiply randn by its square root, the standard deviation",
)
def test_xavier_normal_var(student, reference, device):
    for case, w in draw(student, "xavier_normal", BIG, "moments"):
        moments_match("xavier_normal", case, w)


@check(
    "he_normal",
    "mean 0 and variance 2 / n_in",
    points=2,
    hint="He uses the fan-in n_in (the rows of W) only: std = sqrt(2 / n_in), not n_out",
)
def test_he_normal_var(student, reference, device):
    for case, w in draw(student, "he_normal", BIG, "moments"):
        moments_match("he_normal", case, w)


@check_each(
    SAMPLERS,
    "the distribution: uniform within ±a, or normal",
    points=1,
    hint="xavier_uniform draws torch.rand (flat, never beyond ±a); the normal ones torch.randn",
)
def test_distribution(student, reference, device, fn):
    for case, w in draw(student, fn, BIG, "shape of the distribution"):
        shape_matches(fn, case, w)


@check_each(
    SAMPLERS,
    "every draw comes from `generator`",
    points=1,
    hint="pass generator=generator to every torch.rand / torch.randn call; the global RNG must play no part",
)
def test_generator(student, reference, device, fn):
    seeds = [seed_for(fn, "reproducible"), seed_for(fn, "reproducible"), seed_for(fn, "another seed")]
    calls = student.calls(fn, [Request((50, 40, generator(s))) for s in seeds])
    (first, again, other) = [expect_tensor(c.value, what="the weights") for c in calls]
    if first.shape != again.shape or not torch.equal(first, again):
        fail(
            f"{fn}(50, 40, generator): two generators in the same state gave different weights: "
            "draw from `generator`, not from the global RNG",
            "the same generator state gave different weights",
        )
    if first.shape == other.shape and torch.equal(first, other):
        fail(
            f"{fn}(50, 40, generator): generators seeded differently gave the same weights: "
            "draw from `generator`, not from the global RNG",
            "other generator states gave the same weights",
        )


EQUAL_SIZE = [(1, 24), (2, 12), (3, 8), (4, 6), (8, 3), (24, 1)]  # 24 weights each, fans 25, 14, 11, 10


def scale_of(fn: str, n_in: int, n_out: int) -> float:
    return math.sqrt(target_var(fn, n_in, n_out))


@check_each(
    SAMPLERS,
    "the scale follows the fans exactly",
    points=1,
    hint="the scale uses the fans exactly as the docstring says: no + 1 or - 1",
)
def test_scale_exact(student, reference, device, fn):
    """The same generator state and the same number of weights: a sampler that turns its standard
    draws into weights the same way for every shape gives the same numbers up to the scale, in
    some order. Where they are (sorted, proportional within 1e-4), the ratio of two shapes' scales
    must be the formula's within 1e-4: a fan off by one moves it by 3 % or more here. A sampler
    whose draws depend on the shape in another way gets no verdict from this check."""
    seed = seed_for(fn, "equal sizes")
    calls = student.calls(fn, [Request((a, b, generator(seed))) for a, b in EQUAL_SIZE])
    ws = [
        expect_tensor(c.value, what="the weights").detach().cpu().to(torch.float64).reshape(-1) for c in calls
    ]
    if any(w.numel() != 24 for w in ws):
        return  # the shape check says so
    flat = [w.sort().values for w in ws]
    base, base_scale = flat[0], scale_of(fn, *EQUAL_SIZE[0])
    ratios = [float((w @ base) / (base @ base)) for w in flat]
    if any(float((w - r * base).norm()) > 1e-4 * float(w.norm()) for w, r in zip(flat, ratios, strict=True)):
        return
    for (a, b), r in zip(EQUAL_SIZE, ratios, strict=True):
        want = scale_of(fn, a, b) / base_scale
        if abs(r / want - 1) > 1e-4:
            fail(
                f"{fn}({a}, {b}, generator) and {fn}{EQUAL_SIZE[0]} from generators in the same state: the "
                f"same draws scaled {r:.6g} times as much; {FORMULA[fn]} says {want:.6g}",
                "the scale does not follow the fans",
            )


@check_each(SAMPLERS, "variance and distribution on other layer sizes", points=1, hidden=True)
def test_hidden_sizes(student, reference, device, fn):
    for case, w in draw(student, fn, [(400, 80), (60, 500)], "hidden sizes"):
        moments_match(fn, case, w)
        shape_matches(fn, case, w)


# --- layer_variances ---------------------------------------------------------------------------

BEHAVIOUR = {
    "he_normal": "holds it steady",
    "xavier_uniform": "halves it layer by layer",
    "xavier_normal": "halves it layer by layer",
    "random_0.01": "collapses it",
}
SPREAD = math.sqrt(2)  # allowed factor either way on the per-layer rate and the first layer


STAGES = {  # where each exercise's variances are taken
    "layer_variances": "before the first layer and after each of {depth}",
    "gradient_variances": "at the top and after each of {depth} layers on the way down",
}


def variances(
    student: StudentModule, runs: list[tuple[str, dict]], fn: str = "layer_variances"
) -> list[tuple[str, dict, torch.Tensor]]:
    """The student's variances for each (init, keyword arguments), checked for shape and finiteness."""
    out = []
    for (init, kw), call in zip(
        runs, student.calls(fn, [Request((init,), kw) for init, kw in runs]), strict=False
    ):
        depth = kw.get("depth", 10)
        case = f"{fn}({init!r}{''.join(f', {k}={v}' for k, v in kw.items())})"
        v = expect_tensor(call.value, case=case, what="the variances")
        if tuple(v.shape) != (depth + 1,) or not v.is_floating_point() or not bool(torch.isfinite(v).all()):
            fail(
                f"{case}: expected {depth + 1} finite variances ({STAGES[fn].format(depth=depth)}); "
                f"got a {str(v.dtype).removeprefix('torch.')} tensor of shape {tuple(v.shape)}",
                "the variances have the wrong shape or are not finite",
            )
        out.append((case, kw, v.detach().cpu().to(torch.float64)))
    return out


def behaves(init: str, case: str, kw: dict, v: torch.Tensor, *, rate: bool = True) -> None:
    """v[0] about 1, the first layer's factor, and (with `rate`) the geometric-mean factor per layer."""
    width, depth = kw.get("width", 100), kw.get("depth", 10)
    var_w = target_var(init, width, width)
    if not 0.9 <= float(v[0]) <= 1.1:
        fail(
            f"{case}: the input's variance is {float(v[0]):.4g}; x ~ N(0, 1) has variance 1",
            "the input's variance is not about 1",
        )
    first, want = float(v[1] / v[0]), width * var_w * (0.5 - 0.5 / math.pi)
    if not want / SPREAD <= first <= want * SPREAD:
        fail(
            f"{case}: the first layer multiplies the variance by {first:.4g}; relu(x @ W) with this init "
            f"gives about width * Var(W) * (1/2 - 1/(2 pi)) = {want:.4g}",
            "the first layer's variance is off",
        )
    if rate:
        got, want = float((v[-1] / v[1]) ** (1 / (depth - 1))), width * var_w / 2
        if not want / SPREAD <= got <= want * SPREAD:
            fail(
                f"{case}: after the first layer the variance changes by x{got:.3g} per layer on average; "
                f"{init} {BEHAVIOUR[init]} under ReLU: x{want:.3g} (width * Var(W) / 2)",
                f"the variance does not behave as {init} makes it",
            )


@check(
    "layer_variances",
    "the input's variance and the first layer, every init",
    points=1,
    hint="x ~ N(0, 1) first (variance 1), then relu(x @ W): ReLU keeps E[x**2] / 2; Var = E[x**2] - E[x]**2",
)
def test_first_layer(student, reference, device):
    for case, kw, v in variances(student, [(init, {}) for init in INITS]):
        behaves(case.split("'")[1], case, kw, v, rate=False)


@check(
    "layer_variances",
    "He holds the variance steady",
    points=1,
    hint="with Var(W) = 2 / width, relu(x @ W) keeps E[x**2]: a fresh W per layer, ReLU after every layer",
)
def test_he_steady(student, reference, device):
    for case, kw, v in variances(
        student, [("he_normal", {}), ("he_normal", {"depth": 12, "width": 200, "n": 800})]
    ):
        behaves("he_normal", case, kw, v)


@check(
    "layer_variances",
    "Xavier under ReLU halves the variance layer by layer",
    points=1,
    hint="Var(W) = 2 / (2 width) = 1 / width, and the ReLU halves E[x**2]: x1/2 per layer",
)
def test_xavier_halves(student, reference, device):
    for case, kw, v in variances(student, [("xavier_uniform", {}), ("xavier_normal", {})]):
        behaves(case.split("'")[1], case, kw, v)


@check(
    "layer_variances",
    "random_0.01 collapses the variance",
    points=1,
    hint="N(0, 0.01**2) has variance 1e-4 (0.01 is the standard deviation): x0.005 per layer at width 100",
)
def test_small_collapses(student, reference, device):
    for case, kw, v in variances(student, [("random_0.01", {})]):
        behaves("random_0.01", case, kw, v)


@check(
    "layer_variances",
    "the same seed gives the same variances, another seed others",
    points=1,
    hint="draw x and every W from one torch.Generator().manual_seed(seed), passed as generator=",
)
def test_seeded(student, reference, device):
    (_, _, a), (_, _, b), (_, _, c) = variances(
        student, [("he_normal", {"seed": 3}), ("he_normal", {"seed": 3}), ("he_normal", {"seed": 4})]
    )
    if not torch.equal(a, b):
        fail(
            "layer_variances('he_normal', seed=3) gave different variances twice: draw from a generator "
            "seeded with `seed`",
            "the same seed gave different variances",
        )
    if torch.equal(a, c):
        fail(
            "layer_variances('he_normal') gave the same variances for seed=3 and seed=4: seed the generator "
            "with `seed`",
            "another seed gave the same variances",
        )


RTOL = 1e-3  # the contract's; every run has n * width >= 10,000 entries: biased and unbiased 1e-4 apart
# The re-run calls the student's initialiser once per layer, one after the other (each call needs
# the generator state the one before left): depths stay small, 2 layers tell every mistake.


def drawn(
    student: StudentModule, init: str, kw: dict
) -> tuple[torch.Tensor, list[torch.Tensor], torch.Generator]:
    """The draws as the draw-order amendment fixes them, made here with the student's own
    initialiser: one generator seeded with `seed`, x = randn(n, width) first, then each layer's
    W (the student's `init(width, width, g)`, whose generator comes back in its state after
    the call; "random_0.01" is 0.01 * randn(width, width)). (x, the Ws, the generator after them.)"""
    depth, width, n = kw.get("depth", 10), kw.get("width", 100), kw.get("n", 1000)
    g = torch.Generator().manual_seed(kw.get("seed", 0))
    x = torch.randn(n, width, generator=g)
    ws = []
    for layer in range(1, depth + 1):
        if init == "random_0.01":
            w = 0.01 * torch.randn(width, width, generator=g)
        else:
            call = student.call(init, width, width, g)
            case = f"your {init}({width}, {width}, generator) for layer {layer} of the re-run experiment"
            w = expect_tensor(call.value, case=case, what="the weights")
            after = call.args_after[2] if len(call.args_after) == 3 else None
            if w.shape != (width, width) or w.dtype != torch.float32 or type(after) is not torch.Generator:
                fail(
                    f"{case}: expected float32 weights of shape {(width, width)}", "the weights are malformed"
                )
            w, g = w.detach().cpu(), after
        ws.append(w)
    return x, ws, g


def rerun(student: StudentModule, init: str, kw: dict) -> torch.Tensor:
    """The experiment on the student's own draws (`drawn`): x = relu(x @ W) in float32."""
    x, ws, _ = drawn(student, init, kw)
    out = [x.double().var()]
    for w in ws:
        x = torch.relu(x @ w)
        out.append(x.double().var())
    return torch.stack(out)


def exactly(student: StudentModule, runs: list[tuple[str, dict]], fn: str = "layer_variances") -> None:
    """The student's variances equal the re-run experiment's within a relative RTOL."""
    backward = fn == "gradient_variances"
    for (init, kw), (case, _, v) in zip(runs, variances(student, runs, fn), strict=True):
        if backward:
            x, ws, g = drawn(student, init, kw)
            d = torch.randn(*x.shape, generator=g)  # drawn after every W
            want = down(x, ws, d)
        else:
            want = rerun(student, init, kw)
        err = ((v - want).abs() / want.abs()).nan_to_num(nan=math.inf)
        if float(err.max()) > RTOL:
            i = int(err.argmax())
            where = STAGE_AT[fn](i)
            order = "x first, then each layer's W, then d" if backward else "x first, then each layer's W"
            fail(
                f"{case}: the variance {where} is {float(v[i]):.6g}; the experiment re-run on your {init} "
                f"with the draws in the stated order ({order}, one generator seeded with seed, float32) "
                f"gives {float(want[i]):.6g} (relative difference {float(err[i]):.2g}; tolerance {RTOL:g})"
                + (mistaken(x, ws, d, v) if backward else ""),
                "the variances differ from the experiment re-run on your initialisers",
            )


@check(
    "layer_variances",
    "the variances equal the experiment re-run on your own initialisers",
    points=2,
    hint="one torch.Generator().manual_seed(seed); x = torch.randn(n, width, generator=g) first, then a "
    "fresh W = init(width, width, g) per layer from the same g (never reseeded, no other generator), float32",
)
def test_exact(student, reference, device):
    exactly(
        student,
        [
            ("he_normal", {"depth": 2, "n": 200}),
            ("xavier_uniform", {"depth": 2, "width": 80, "n": 150, "seed": 5}),
            ("xavier_normal", {"depth": 2, "seed": 2}),
            ("random_0.01", {"depth": 4}),
        ],
    )


@check("layer_variances", "other depths, widths and sample sizes", points=1, hidden=True)
def test_layer_variances_hidden(student, reference, device):
    runs = [(init, {"depth": 8, "width": 256, "n": 500, "seed": 11}) for init in INITS]
    for (init, _), (case, kw, v) in zip(runs, variances(student, runs), strict=True):
        behaves(init, case, kw, v)
    exactly(student, [(init, {"depth": 2, "width": 256, "n": 500, "seed": 11}) for init in INITS[::2]])


# --- gradient_variances: the backward half of practice problem 4 ---------------------------------

STAGE_AT = {
    "layer_variances": lambda i: "before the first layer" if i == 0 else f"after layer {i}",
    "gradient_variances": lambda i: "at the top" if i == 0 else f"after {i} layer(s) on the way down",
}


def down(x: torch.Tensor, ws: list[torch.Tensor], d: torch.Tensor, how: str = "right") -> torch.Tensor:
    """The forward x = relu(x @ W), then d pushed down from the top in float32; the variances of d
    (float64). `how` names a mistake to reproduce instead of the right rule d = (d * (z > 0)) @ W.T."""
    zs, below = [], []
    for w in ws:
        below.append(x)
        zs.append(x @ w)
        x = torch.relu(zs[-1])
    out = [d.double().var()]
    for z, w, inp in zip(reversed(zs), reversed(ws), reversed(below), strict=True):
        mask = {
            "unmasked": torch.ones_like(z),
            "layer below": (inp > 0).float(),
            "z >= 0": (z >= 0).float(),
        }.get(how, (z > 0).float())
        d = (d * mask) @ (w if how == "W, not W.T" else w.T)
        out.append(d.double().var())
    return torch.stack(out)


MISTAKES = {
    "unmasked": "d not masked by ReLU's derivative (z > 0)",
    "W, not W.T": "d @ W instead of d @ W.T",
    "layer below": "the mask taken from the layer's input (the layer below) instead of its own z",
    "z >= 0": "the mask z >= 0 (ReLU's derivative taken as 1 at z = 0, where it is 0)",
}


def off(v: torch.Tensor, want: torch.Tensor) -> float:
    """The largest relative difference (inf where it is not a number)."""
    return float(((v - want).abs() / want.abs()).nan_to_num(nan=math.inf).max())


def mistaken(x: torch.Tensor, ws: list[torch.Tensor], d: torch.Tensor, v: torch.Tensor) -> str:
    """A sentence naming the lesson's mistake the variances match on the same draws, if one does."""
    for how, words in MISTAKES.items():
        if off(v, down(x, ws, d, how)) <= RTOL:
            return f". Your variances are those of {words}"
    if off(v.flip(0), down(x, ws, d)) <= RTOL:
        return ". Your variances are right but listed bottom-up: index 0 is the top, before any layer"
    return ""


def down_behaves(init: str, case: str, kw: dict, v: torch.Tensor, *, rate: bool = True) -> None:
    """v[0] about 1 and (with `rate`) the geometric-mean factor per layer on the way down."""
    width, depth = kw.get("width", 100), kw.get("depth", 10)
    if not 0.9 <= float(v[0]) <= 1.1:
        fail(
            f"{case}: the variance at the top (index 0) is {float(v[0]):.4g}; the upstream gradient "
            "d ~ N(0, 1) has variance 1, before any layer",
            "the top's variance is not about 1",
        )
    if rate:
        got, want = float((v[-1] / v[0]) ** (1 / depth)), width * target_var(init, width, width) / 2
        if not want / SPREAD <= got <= want * SPREAD:
            fail(
                f"{case}: on the way down the gradient's variance changes by x{got:.3g} per layer on "
                f"average; {init} {BEHAVIOUR[init]} under ReLU: x{want:.3g} (width * Var(W) / 2)",
                f"the gradient's variance does not behave as {init} makes it",
            )


@check(
    "gradient_variances",
    "the upstream gradient at the top, every init",
    points=1,
    hint="index 0 is d = torch.randn(n, width, generator=g) itself (variance 1), before any layer; "
    "then one entry per layer on the way down, depth + 1 in all",
)
def test_gradient_top(student, reference, device):
    for case, kw, v in variances(student, [(init, {}) for init in INITS], "gradient_variances"):
        down_behaves(case.split("'")[1], case, kw, v, rate=False)


@check(
    "gradient_variances",
    "He holds the gradient's variance steady down the layers",
    points=1,
    hint="the mask (z > 0) keeps half of E[d**2] and W.T with Var(W) = 2 / width doubles it: x1 per layer",
)
def test_gradient_he_steady(student, reference, device):
    runs = [("he_normal", {}), ("he_normal", {"depth": 12, "width": 200, "n": 800})]
    for case, kw, v in variances(student, runs, "gradient_variances"):
        down_behaves("he_normal", case, kw, v)


@check(
    "gradient_variances",
    "Xavier under ReLU halves the gradient's variance layer by layer",
    points=1,
    hint="Var(W) = 1 / width: W.T keeps E[d**2] and the ReLU mask halves it, x1/2 per layer",
)
def test_gradient_xavier_halves(student, reference, device):
    runs = [("xavier_uniform", {}), ("xavier_normal", {})]
    for case, kw, v in variances(student, runs, "gradient_variances"):
        down_behaves(case.split("'")[1], case, kw, v)


@check(
    "gradient_variances",
    "random_0.01 collapses the gradient's variance",
    points=1,
    hint="N(0, 0.01**2) has variance 1e-4: width * 1e-4 / 2 = x0.005 per layer at width 100",
)
def test_gradient_small_collapses(student, reference, device):
    for case, kw, v in variances(student, [("random_0.01", {})], "gradient_variances"):
        down_behaves("random_0.01", case, kw, v)


@check(
    "gradient_variances",
    "the same seed gives the same gradient variances, another seed others",
    points=1,
    hint="draw x, every W and then d from one torch.Generator().manual_seed(seed), passed as generator=",
)
def test_gradient_seeded(student, reference, device):
    runs = [("he_normal", {"seed": 3}), ("he_normal", {"seed": 3}), ("he_normal", {"seed": 4})]
    (_, _, a), (_, _, b), (_, _, c) = variances(student, runs, "gradient_variances")
    if not torch.equal(a, b):
        fail(
            "gradient_variances('he_normal', seed=3) gave different variances twice: draw x, every W and d "
            "from a generator seeded with `seed`",
            "the same seed gave different variances",
        )
    if torch.equal(a, c):
        fail(
            "gradient_variances('he_normal') gave the same variances for seed=3 and seed=4: seed the "
            "generator with `seed`",
            "another seed gave the same variances",
        )


@check(
    "gradient_variances",
    "the gradient variances equal the experiment re-run on your own initialisers",
    points=2,
    hint="the forward of layer_variances keeping each z = x @ W, then d = torch.randn(n, width, generator=g) "
    "from the same g, and from the top layer down d = (d * (z > 0)) @ W.T with that layer's own z and W",
)
def test_gradient_exact(student, reference, device):
    exactly(
        student,
        [
            ("he_normal", {"depth": 2, "n": 200}),
            ("xavier_uniform", {"depth": 2, "width": 80, "n": 150, "seed": 5}),
            ("xavier_normal", {"depth": 3, "seed": 2}),
            ("random_0.01", {"depth": 4}),
            # width 3: a row of x all zero after a ReLU gives z exactly 0 in the next layer
            ("he_normal", {"depth": 3, "width": 3, "n": 1000}),
        ],
        "gradient_variances",
    )


@check("gradient_variances", "other depths, widths and sample sizes", points=1, hidden=True)
def test_gradient_variances_hidden(student, reference, device):
    runs = [(init, {"depth": 8, "width": 256, "n": 500, "seed": 11}) for init in INITS]
    for (init, _), (case, kw, v) in zip(runs, variances(student, runs, "gradient_variances"), strict=True):
        down_behaves(init, case, kw, v)
    exactly(
        student,
        [(init, {"depth": 2, "width": 256, "n": 500, "seed": 11}) for init in INITS[::2]],
        "gradient_variances",
    )
