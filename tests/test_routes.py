"""Rules as allowed APIs: every route to a forbidden result is refused in one line that names it,
and ordinary code written in unusual ways is not (dlgrade/engine/routes.py, names.py)."""

from __future__ import annotations

import textwrap

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.rule_sets import parse_rule_set
from dlgrade.engine.rules import check_module


def refusals(course: Course, module: str, source: str, fn: str) -> list[str]:
    """The violations of `fn` (an exercise of `module`) in `source`, as 'line: detail'."""
    rules = {e.id: e.rules for e in course.exercises if e.module == module}
    scan = check_module(textwrap.dedent(source), rules, f"{module}.py", module)
    return [f"{v.line}: {v.detail}" for v in scan.violations[fn]]


ROUTES = [
    # library routes to the forbidden result, each outside the exercise's allowed API
    ("stability", "stable_softmax", "import torch.nn.functional as F\ndef stable_softmax(x, dim=-1):\n"
     "    return F.scaled_dot_product_attention(x, x, x)\n",
     "uses torch.nn.functional.scaled_dot_product_attention"),
    ("stability", "stable_softmax", "import torch\ndef stable_softmax(x, dim=-1):\n"
     "    return torch.distributions.transforms.SoftmaxTransform()(x)\n",
     "uses torch.distributions.transforms.SoftmaxTransform"),
    ("stability", "stable_softmax", "from torch.sparse import softmax as s\ndef stable_softmax(x, dim=-1):\n"
     "    return s(x, dim)\n", "uses torch.sparse.softmax"),
    ("stability", "stable_softmax", "import torch\nsp = torch.sparse\ndef stable_softmax(x, dim=-1):\n"
     "    return sp.softmax(x, dim)\n", "uses torch.sparse.softmax"),
    ("stability", "stable_softmax", "import torch\ndef stable_softmax(x, dim=-1):\n"
     "    return getattr(torch.sparse, 'softmax')(x, dim)\n", "uses torch.sparse.softmax"),
    ("stability", "logsumexp", "import numpy as np\ndef logsumexp(x, dim=-1, keepdim=False):\n"
     "    return np.logaddexp.reduce(x, axis=dim)\n", "uses numpy.logaddexp.reduce"),
    ("stability", "logsumexp", "import torch\ndef logsumexp(x, dim=-1, keepdim=False):\n"
     "    return x.logcumsumexp(dim).select(dim, -1)\n", "uses torch.Tensor.logcumsumexp"),
    ("activations", "swish_forward", "import torch.nn.functional as F\ndef swish_forward(x, beta):\n"
     "    return F.glu(torch.stack([x, beta * x]), 0), None\n", "uses torch.nn.functional.glu"),
    ("activations", "tanh_forward", "import numpy as np\ndef tanh_forward(x):\n"
     "    return np.tanh(x.numpy()), None\n", "uses numpy.tanh"),
    ("activations", "tanh_forward", "import torch\ndef tanh_forward(x):\n"
     "    return torch.special.expit(2 * x) * 2 - 1, None\n", "uses torch.special.expit"),
    ("einsum_tasks", "matmul", "import torch\ndef matmul(A, B):\n    return torch.sparse.mm(A, B)\n",
     "uses torch.sparse.mm"),
    ("einsum_tasks", "trace", "import torch\ndef trace(A):\n"
     "    return sum(torch.einsum('ii->i', A).tolist())\n", "uses sum"),
    ("einsum_tasks", "batch_trace", "import torch\ndef batch_trace(A):\n"
     "    return torch.einsum('bi->b', torch.diagonal_copy(A, 0, 1, 2))\n", "uses torch.diagonal_copy"),
    ("xor", "fit_linear", "import torch\ndef fit_linear(Phi, y, steps=2000, lr=0.1, seed=0):\n"
     "    return torch.linalg.svd(Phi)\n", "uses torch.linalg.svd"),
    ("xor", "fit_linear", "import torch\ndef fit_linear(Phi, y, steps=2000, lr=0.1, seed=0):\n"
     "    return torch.geqrf(Phi)\n", "uses torch.geqrf"),
    ("batchnorm", "batchnorm_backward", "import torch\ndef batchnorm_backward(dout, cache):\n"
     "    out = cache[0]\n    return out.grad_fn(dout)\n", "uses torch.Tensor.grad_fn"),
    # grad mode through a forbidden class's own methods: a forbidden name forbids its members
    ("layers", "relu_backward", "import torch\ndef relu_backward(dout, cache):\n"
     "    torch.enable_grad.__enter__(object())\n    return dout\n", "uses torch.enable_grad.__enter__"),
    # names built at run time, everywhere
    ("stability", "stable_softmax", "import torch\ndef stable_softmax(x, dim=-1):\n"
     "    return getattr(torch, 'o' + 'ps').aten.softmax(x, dim)\n", "builds a name at run time"),
    ("tensors", "spatial_mean", "import torch\nfrom functools import reduce\ndef spatial_mean(x):\n"
     "    return reduce(getattr, ['mean'], x)(dim=(2, 3))\n", "builds a name at run time"),
    ("activations", "swish_forward", "from torch.nn.functional import *\ndef swish_forward(x, beta):\n"
     "    return glu(torch.stack([x, beta * x]), 0), None\n", "imports * from torch.nn.functional"),
    # raw memory, everywhere
    ("tensors", "spatial_mean", "import numpy as np\nclass W:\n    __array_interface__ = {}\n"
     "def spatial_mean(x):\n    np.asarray(W())\n    return x.mean(dim=(2, 3))\n",
     "reaches raw memory through __array_interface__"),
    ("tensors", "spatial_mean", "def spatial_mean(x):\n    return x.numpy().ctypes.data\n",
     "reaches raw memory through .ctypes"),
    ("tensors", "spatial_mean", "def spatial_mean(x):\n    return memoryview(x.numpy())\n",
     "reaches raw memory through memoryview"),
    # threads, whichever module re-exports threading
    ("tensors", "spatial_mean", "import torch.utils.data.dataloader as d\ndef spatial_mean(x):\n"
     "    d.threading.Thread(target=print).start()\n    return x\n", "starts threads through"),
    ("tensors", "spatial_mean", "from torch.utils.data.dataloader import threading\ndef spatial_mean(x):\n"
     "    threading.Thread(target=print).start()\n    return x\n", "starts threads through"),
    # a helper reached through the module's own name is scanned like any helper
    ("einsum_tasks", "matmul", "import torch\nimport einsum_tasks\ndef h3(A, B):\n"
     "    return torch.stack([torch.einsum('k,kj->j', a, B) for a in A])\n"
     "def matmul(A, B):\n    return einsum_tasks.h3(A, B)\n", "has a Python comprehension"),
    ("einsum_tasks", "matmul", "import torch\nfrom einsum_tasks import h3 as h\ndef h3(A, B):\n"
     "    return A @ B\ndef matmul(A, B):\n    return h(A, B)\n", "uses the @ operator"),
]  # fmt: skip


@pytest.mark.parametrize(("module", "fn", "source", "detail"), ROUTES, ids=lambda p: str(p)[:40])
def test_every_route_is_refused_with_its_name(course: Course, module, fn, source, detail) -> None:
    found = refusals(course, module, source, fn)
    assert any(detail in f for f in found), found


def test_a_refusal_names_the_route_the_allowed_api_and_the_reason_in_one_line(course: Course) -> None:
    (first,) = refusals(course, "stability", "import torch\ndef stable_softmax(x, dim=-1):\n"
                        "    return torch.sparse.softmax(x, dim)\n", "stable_softmax")  # fmt: skip
    assert first.startswith("3: uses torch.sparse.softmax, not among the functions this exercise allows (")
    assert "elementwise math" in first and "\n" not in first and len(first) < 200


UNUSUAL_BUT_ALLOWED = [
    ("stability", "stable_softmax", "import torch.nn.functional as F\nfrom torch import exp as e\n"
     "T = torch\ndef stable_softmax(x, dim=-1):\n    m = getattr(T, 'amax')(x, dim=dim, keepdim=True)\n"
     "    z = e(x - m)\n    return z / z.sum(dim, keepdim=True)\n"),
    ("activations", "swish_forward", "import torch\nfrom typing import Any\nsig = torch.sigmoid\n"
     "def swish_forward(x: torch.Tensor, beta: Any):\n    s = sig(beta * x)\n"
     "    return x * s, (x, beta, s)\n"),
    ("tensors", "spatial_mean", "import os, signal\ndef spatial_mean(x):\n    os.getpid()\n"
     "    return x.mean(dim=(2, 3))\n"),
    ("layers", "relu_backward", "import torch\nclass C:\n    storage_size = 1\n"
     "def relu_backward(dout, cache):\n    with torch.no_grad():\n"
     "        return torch.where(cache > 0, dout, torch.zeros_like(dout))\n"),
]  # fmt: skip


@pytest.mark.parametrize(("module", "fn", "source"), UNUSUAL_BUT_ALLOWED, ids=lambda p: str(p)[:40])
def test_ordinary_code_written_unusually_is_allowed(course: Course, module, fn, source) -> None:
    assert refusals(course, module, source, fn) == []


def test_allow_lists_are_declared_by_groups_and_checked() -> None:
    apis = {"el": {"words": "elementwise", "owners": ["torch", "torch.Tensor"], "names": ["exp"]}}
    rs = parse_rule_set("r", {"why": "w", "allowed": ["el", "torch.einsum"]}, apis)
    assert rs.allowed_words == "elementwise, torch.einsum"
    assert all(rs.admits(n) for n in ("torch.exp", "torch.Tensor.exp", "torch.Tensor.exp_", "torch.einsum"))
    assert not rs.admits("torch.sparse.softmax")
    with pytest.raises(ValueError, match="unknown api group"):
        parse_rule_set("r", {"why": "w", "allowed": ["nope"]}, apis)


def test_alias_chains_resolve_and_one_too_deep_is_refused(course: Course) -> None:
    """Aliases resolve through chains (in any order of the source); a chain too deep to follow
    resolves to a name no allow-list admits, so depth buys nothing."""
    for n, told in ((30, "uses torch.nn.functional.glu"), (200, "alias chain too deep")):
        chain = "\n".join(f"a{i} = a{i - 1}" for i in range(n - 1, 0, -1))
        source = f"import torch\n{chain}\na0 = torch.nn.functional\ndef swish_forward(x, beta):\n"
        source += f"    return a{n - 1}.glu(x), None\n"
        found = refusals(course, "activations", source, "swish_forward")
        assert any(told in f for f in found), found
