"""Which exercises run under the guards' torch function mode (dlgrade/sandbox/watch_plan.py),
and, for each family of rules that runs without it now, routes the mode used to catch that
the wrappers still catch, in a real worker, with the request the engine builds."""

from __future__ import annotations

import textwrap

import pytest
import torch

from dlgrade.core.calls import Request
from dlgrade.core.manifest import Course
from dlgrade.engine.exercise_sandbox import ExerciseSandbox
from dlgrade.sandbox.handle import WorkerSpec
from dlgrade.sandbox.shared import shared_sandbox
from dlgrade.sandbox.watch_plan import needs_watch, watch_reason

# The decision, per exercise: only einsum's rules count calls and forbid Tensor operators.
WATCHED = {
    "matvec", "matmul", "trace", "outer", "batch_matmul", "batch_trace", "attention_scores",
    "attention", "bilinear", "batch_bilinear", "contract_4d", "multihead_scores",
}  # fmt: skip
TRAINING = ("fit_linear", "train_xor_linear", "fit_irony_of_spec", "pwlinr_params", "train_xor_mlp",
            "layer_variances", "gradient_variances", "depth_gradient_norms")  # fmt: skip


def test_the_mode_is_armed_where_a_rule_needs_it(course: Course) -> None:
    table = {e.id: needs_watch(e.rules) for e in course.exercises}
    assert {ex for ex, watched in table.items() if watched} == WATCHED
    assert not any(table[ex] for ex in TRAINING)
    assert "counts calls of torch.einsum" in watch_reason(course.exercise("attention").rules)
    assert watch_reason(course.exercise("fit_linear").rules) == ""


SOURCE = """
import torch
import torch.nn.functional as F


def modes(x):
    torch.einsum("i->i", x)  # for the einsum exercises' count
    return torch.tensor(float(torch._C._len_torch_function_stack()))


def linear_layer(x):
    return torch.nn.Linear(4, 4)(x)


def init_normal(x):
    return torch.nn.init.normal_(x.clone())


def backward(x):
    y = x.detach().requires_grad_(True)
    (y * y).sum().backward()
    return y.grad


def autograd_grad(x):
    y = x.detach().requires_grad_(True)
    return torch.autograd.grad((y * y).sum(), y)[0]


def jacobian(x):
    return torch.autograd.functional.jacobian(torch.sin, x)


def with_enable_grad(x):
    with torch.enable_grad():
        return x * 2


def forward_mode(x):
    import torch.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        return fwAD.unpack_dual(fwAD.make_dual(x, torch.ones_like(x))).tangent


def batch_norm(x):
    return F.batch_norm(x[None], None, None, training=True)


def batch_norm_module(x):
    return torch.nn.BatchNorm1d(4)(x[None])


def layer_norm(x):
    return F.layer_norm(x, x.shape)


def silu(x):
    return F.silu(x)


def silu_module(x):
    return torch.nn.SiLU()(x)


def inverse_by_super(x):
    return getattr(super(torch.Tensor, torch.diag(x + 3.0)), "inv" + "erse")()


def softmax_by_super(x):
    return getattr(super(torch.Tensor, x), "soft" + "max")(0)


def tanh_by_super(x):
    return getattr(super(torch.Tensor, x), "ta" + "nh")()


def exp_by_super(x):
    return getattr(super(torch.Tensor, x), "ex" + "p")()


def lstsq(x):
    return torch.linalg.lstsq(torch.diag(x + 3.0), x[:, None]).solution


def orthogonal(x):  # the Cayley map calls torch.linalg.solve inside torch's own code
    layer = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(4, 4), orthogonal_map="cayley")
    return layer(x)
"""


@pytest.fixture(scope="module")
def engine_call(course: Course, tmp_path_factory):
    """call(exercise, fn) -> reply: `fn` of SOURCE called with the request the engine builds
    for `exercise` (its forbidden calls, bounds and mode), in one worker."""
    folder = tmp_path_factory.mktemp("watch_plan")
    (folder / "routes.py").write_text(textwrap.dedent(SOURCE))
    box = shared_sandbox(course.all_rule_patterns())
    worker = box.spawn(WorkerSpec(str(folder), "routes", 2048))
    assert worker.hello(60)["kind"] == "ready"
    x = torch.rand(4, dtype=torch.float64) + 0.5

    def run(exercise: str, fn: str):
        engine = ExerciseSandbox(box, course, course.exercise(exercise), str(folder), {})
        if not worker.alive:
            pytest.fail("the worker died")
        return worker.request(engine._request(fn, Request((x,))), 60)[0]

    yield run
    worker.close()


@pytest.mark.parametrize(
    ("exercise", "pushed"),
    [
        ("layer_variances", 0.0),
        ("relu_backward", 0.0),
        ("fit_linear", 0.0),
        ("stable_softmax", 0.0),
        ("matmul", 1.0),
    ],
)
def test_the_worker_pushes_the_mode_as_decided(engine_call, exercise: str, pushed: float) -> None:
    reply = engine_call(exercise, "modes")
    assert reply["kind"] == "ok", reply
    assert float(reply["value"]) == pushed


@pytest.mark.parametrize(
    ("exercise", "fn", "call"),
    [
        # init_builtins: a library class that calls the forbidden function inside torch
        ("layer_variances", "linear_layer", "torch.nn.init.kaiming_uniform_"),
        ("layer_variances", "init_normal", "torch.nn.init.normal_"),
        ("gradient_variances", "linear_layer", "torch.nn.init.kaiming_uniform_"),
        # no_autograd, no_forward_ad
        ("relu_backward", "backward", "torch.Tensor.backward"),
        ("relu_backward", "autograd_grad", "torch.autograd.grad"),
        ("relu_backward", "jacobian", "torch.autograd.functional.jacobian"),
        ("tanh_backward", "with_enable_grad", "torch.enable_grad"),
        ("jvp", "forward_mode", "torch.autograd.forward_ad.dual_level"),
        # norm_builtins: functions, and modules whose forward calls them
        ("batchnorm_forward", "batch_norm", "torch.nn.functional.batch_norm"),
        ("batchnorm_forward", "batch_norm_module", "torch.nn.BatchNorm1d"),
        ("layernorm_forward", "layer_norm", "torch.nn.functional.layer_norm"),
        # swish_builtins
        ("swish_forward", "silu", "torch.nn.functional.silu"),
        ("swish_backward", "silu_module", "torch.nn.SiLU"),
        # the C base's methods, by a name built at run time (the look-up guard)
        ("fit_linear", "inverse_by_super", "torch.Tensor.inverse"),
        ("stable_softmax", "softmax_by_super", "torch.Tensor.softmax"),
        ("tanh_forward", "tanh_by_super", "torch.Tensor.tanh"),
        # closed_form: a function, and torch's own code calling one
        ("train_xor_linear", "lstsq", "torch.linalg.lstsq"),
        ("fit_linear", "orthogonal", "torch.linalg.solve"),
    ],
)
def test_routes_are_caught_without_the_mode(engine_call, exercise: str, fn: str, call: str) -> None:
    reply = engine_call(exercise, fn)
    assert reply["kind"] == "forbidden", reply
    assert reply["violations"][0]["call"] == call, reply["violations"][0]


def test_allowed_calls_still_run_without_the_mode(engine_call) -> None:
    assert engine_call("layer_variances", "silu")["kind"] == "ok"
    assert engine_call("relu_forward", "backward")["kind"] == "ok"
    assert engine_call("stable_softmax", "exp_by_super")["kind"] == "ok"
    assert engine_call("tanh_backward", "tanh_by_super")["kind"] == "ok"
    reply = engine_call("relu_backward", "with_enable_grad")  # not the same rule: grad mode
    assert reply["kind"] == "forbidden"


@pytest.mark.parametrize(
    ("module", "exercise", "body"),
    [
        ("stability", "stable_softmax", "return super(torch.Tensor, x).softmax(0)"),
        ("stability", "stable_softmax", "return type.mro(torch.Tensor)[1].softmax(x, 0)"),
        ("stability", "stable_softmax", "return torch._C._VariableFunctions.softmax(x, 0)"),
        ("stability", "stable_softmax", "s = super(torch.Tensor, x)\n    return getattr(s, 'softmax')(0)"),
        ("xor", "fit_linear", "s = super(torch.Tensor, x)\n    return s.pinverse()"),
        ("xor", "fit_linear", "return torch._C._linalg.linalg_solve(x, x)"),
        ("activations", "tanh_forward", "return super(torch.Tensor, x).tanh()"),
        ("activations", "prelu_forward", "return super(torch.Tensor, x).prelu(x)"),
        ("activations", "mlp_forward", "return super(torch.Tensor, x).relu()"),
    ],
)
def test_routes_past_the_wrappers_are_refused_in_the_source(
    course: Course, module: str, exercise: str, body: str
) -> None:
    """What the exercises without the mode rely on for a route written out in the source."""
    from dlgrade.engine.rules import check_module

    rules = {e.id: e.rules for e in course.exercises if e.module == module}
    source = f"import torch\n\n\ndef {exercise}(x, *rest):\n    {body}\n"
    assert not needs_watch(rules[exercise])
    assert check_module(source, rules, f"{module}.py", module).violations[exercise], body
