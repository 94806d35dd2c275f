"""Static rules: names resolve through imports; violations land on the exercises that reach them;
a student's own names are local."""

from __future__ import annotations

import textwrap

import pytest

from dlgrade.manifest import Course, Rules, RuleSet
from dlgrade.rules import check_module

SOFTMAX = RuleSet(
    "stable",
    "the built-in does it for you",
    calls=("torch.softmax", "torch.Tensor.softmax", "torch.nn.functional.*softmax*"),
)
SANDBOX = RuleSet(
    "sandbox",
    "sandbox",
    modules=("ctypes",),
    attributes=("torch._[!_]*", "torch.*._[!_]*", "builtins.eval", "*.__globals__"),
)
LOOPS = RuleSet("einsum", "einsum only", syntax=("loop", "matmul_operator"), at_most=(("torch.einsum", 1),))


def found(source: str, *sets: RuleSet, fn: str = "f") -> list[str]:
    scan = check_module(textwrap.dedent(source), {fn: Rules(sets=sets)}, "m.py")
    return [f"{v.line}:{v.detail}" for v in scan.violations[fn]]


def test_aliases_and_from_imports_resolve() -> None:
    assert found("import torch.nn.functional as F\ndef f(x):\n    return F.softmax(x, 0)\n", SOFTMAX) == [
        "3:uses torch.nn.functional.softmax"
    ]
    assert found("from torch import softmax as s\ndef f(x):\n    return s(x, 0)\n", SOFTMAX) == [
        "3:uses torch.softmax"
    ]
    assert found("import torch\ndef f(x):\n    return x.softmax(0)\n", SOFTMAX) == [
        "3:uses torch.Tensor.softmax"
    ]
    assert found("import torch as t\ndef f(x):\n    g = t.softmax\n    return g(x, 0)\n", SOFTMAX) == [
        "3:uses torch.softmax"
    ]


def test_violations_follow_helpers_and_module_level_code() -> None:
    src = """
    import torch
    def helper(x):
        return torch.softmax(x, 0)
    def f(x):
        return helper(x)
    def g(x):
        return x
    """
    scan = check_module(textwrap.dedent(src), {"f": Rules((SOFTMAX,)), "g": Rules((SOFTMAX,))}, "m.py")
    assert [v.line for v in scan.violations["f"]] == [4]
    assert scan.violations["g"] == []
    top = "import torch\nY = torch.softmax(torch.ones(2), 0)\ndef f(x):\n    return x\n"
    assert found(top, SOFTMAX) == ["2:uses torch.softmax"]


def test_sandbox_names_and_imports() -> None:
    assert found("import ctypes\ndef f(x):\n    return x\n", SANDBOX) == ["1:imports ctypes"]
    assert found("import torch\ndef f(x):\n    return torch._C._nn\n", SANDBOX) == ["3:uses torch._C._nn"]
    assert found("def f(x):\n    return eval('x')\n", SANDBOX) == ["2:uses eval"]
    assert found("def f(x):\n    return f.__globals__\n", SANDBOX) == ["2:uses .__globals__"]


def test_ordinary_code_is_not_flagged() -> None:
    src = """
    import torch
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.eval = 3
    def softmax(x):
        return x
    def f(x):
        return softmax(x) + x.exp().sum(0)
    """
    assert found(src, SOFTMAX, SANDBOX) == []


def test_syntax_bans_and_call_counts() -> None:
    assert found("def f(a, b):\n    return [x for x in a]\n", LOOPS) == ["2:has a Python comprehension"]
    assert found("def f(a, b):\n    for r in a:\n        pass\n", LOOPS) == ["2:has a Python loop"]
    assert found("def f(a, b):\n    return a @ b\n", LOOPS) == ["2:uses the @ operator"]
    src = "import torch\ndef f(a, b):\n    return torch.einsum('i,i', a, b) + torch.einsum('i,i', b, a)\n"
    assert found(src, LOOPS) == ["3:calls torch.einsum 2 times (at most 1)"]


def test_defined_names_are_reported() -> None:
    scan = check_module("def f(x):\n    return x\nclass C:\n    pass\nX = 1\n", {"f": Rules()})
    assert scan.defined == {"f", "C"}


# --- the course's einsum rules ---------------------------------------------------------


def scan(course: Course, source: str, *exercises: str) -> dict[str, list[str]]:
    rules = {e: course.exercise(e).rules for e in exercises}
    found = check_module(textwrap.dedent(source), rules, filename="einsum_tasks.py").violations
    return {e: [f"{v.line}: {v.detail}" for v in vs] for e, vs in found.items()}


def test_own_functions_named_like_torch_functions_are_not_flagged(course: Course) -> None:
    source = """
        import torch

        def matmul(A, B):
            return torch.einsum("mn,np->mp", A, B)

        def trace(A):
            return torch.einsum("ii->", A)

        def outer(a, b):
            return torch.einsum("m,n->mn", a, b)

        def matvec(A, x):
            return matmul(A, x[:, None])[:, 0]

        def batch_trace(A):
            t = trace
            return torch.einsum("bii->b", A)
    """
    assert scan(course, source, "matmul", "trace", "outer", "matvec", "batch_trace") == {
        "matmul": [],
        "trace": [],
        "outer": [],
        "matvec": [],
        "batch_trace": [],
    }


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("return torch.matmul(A, B)", "uses torch.matmul"),
        ("return A.matmul(B)", "uses torch.Tensor.matmul"),
        ("return A @ B", "uses the @ operator"),
        ("return torch.einsum('mn->', A) + torch.trace(A)", "uses torch.trace"),
        ("return A.diagonal().sum()", "uses torch.Tensor.diagonal"),
        ("return A.__matmul__(B)", "uses torch.Tensor.__matmul__"),
        ("return mm(A, B)", "uses torch.mm"),
        ("return F.linear(A, B.T)", "uses torch.nn.functional.linear"),
        ("return torch.linalg.matmul(A, B)", "uses torch.linalg.matmul"),
        ("return torch.stack(list(map(torch.einsum, A)))", "uses map"),
        ("return torch.stack([a for a in A])", "has a Python comprehension"),
        (
            "return torch.einsum('mn,np->mp', A, B) + E('mn,np->mp', A, B)",
            "calls torch.einsum 2 times (at most 1)",
        ),
    ],
)
def test_forbidden_forms_are_flagged_with_their_line(course: Course, body: str, detail: str) -> None:
    source = f"""
        import torch
        import torch.nn.functional as F
        from torch import einsum as E, mm

        def matmul(A, B):
            {body}
    """
    found = scan(course, source, "matmul")["matmul"]
    assert f"7: {detail}" in found, found


def test_a_helper_carries_its_violations_to_every_caller(course: Course) -> None:
    source = """
        import torch

        def helper(A):
            return A.trace()

        def trace(A):
            return helper(A)

        def batch_trace(A):
            return torch.einsum("bii->b", A)
    """
    assert scan(course, source, "trace", "batch_trace") == {
        "trace": ["5: uses torch.Tensor.trace"],
        "batch_trace": [],
    }


def test_attention_may_call_einsum_twice_and_softmax(course: Course) -> None:
    source = """
        import math
        import torch

        def attention(Q, K, V):
            w = torch.softmax(torch.einsum("bqd,bkd->bqk", Q, K) / math.sqrt(Q.shape[-1]), dim=-1)
            return torch.einsum("bqk,bkv->bqv", w, V), w

        def attention_scores(Q, K):
            s = torch.einsum("bqd,bkd->bqk", Q, K)
            return torch.einsum("bqk->bqk", s) / math.sqrt(Q.shape[-1])
    """
    assert scan(course, source, "attention", "attention_scores") == {
        "attention": [],
        "attention_scores": ["11: calls torch.einsum 2 times (at most 1)"],
    }
