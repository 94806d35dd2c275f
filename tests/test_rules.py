"""Static rules: names resolve through imports; violations land on the exercises that reach them;
a student's own names are local."""

from __future__ import annotations

import textwrap

import pytest

from dlgrade.core.manifest import Course
from dlgrade.core.rule_sets import Rules, RuleSet
from dlgrade.engine.rules import check_module

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
        "3:uses torch.softmax",
        "4:uses torch.softmax",  # an assignment of a dotted name is an alias too
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
    module = course.exercise(exercises[0]).module  # the module's own name resolves its helpers
    found = check_module(textwrap.dedent(source), rules, filename=f"{module}.py").violations
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


def test_model_solutions_and_right_fixtures_break_no_rule(course: Course) -> None:
    """The new bans (tensor arithmetic, names in strings, the softmax-equivalents) cost nothing
    to a correct solution: the model solutions and the right-but-different files."""
    from tests.support import FIXTURES

    for module in course.modules:
        names = [e.id for e in course.exercises if e.module == module]
        sources = [(course.reference_dir() / f"{module}.py").read_text()]
        for extra in [*(FIXTURES / "right" / module).glob("*.py"), FIXTURES / "solved" / f"{module}.py"]:
            if extra.is_file():
                sources.append(sources[0] + "\n\n" + extra.read_text())
        for source in sources:
            assert scan(course, source, *names) == {n: [] for n in names}, module


@pytest.mark.parametrize(
    "scaled",
    [
        "torch.einsum('bqd,bkd->bqk', Q, K) / math.sqrt(Q.shape[-1])",
        "torch.einsum('bqd,bkd->bqk', Q, K) * Q.shape[-1] ** -0.5",
        "torch.einsum('bqd,bkd->bqk', Q / Q.size(-1) ** 0.5, K)",
        "torch.einsum('bqd,bkd->bqk', Q, K) * scale",
        "torch.einsum('bqd,bkd->bqk', Q, K) / torch.sqrt(torch.tensor(d, dtype=Q.dtype))",
        "-torch.einsum('bqd,bkd->bqk', Q, K) * (-1.0 / math.sqrt(d))",
    ],
)
def test_a_scale_beside_einsum_is_allowed(course: Course, scaled: str) -> None:
    source = f"""
        import math
        import torch

        def attention_scores(Q, K):
            d = Q.shape[-1]
            scale = 1 / math.sqrt(d)
            return {scaled}
    """
    assert scan(course, source, "attention_scores") == {"attention_scores": []}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("return (A * x).sum(-1)", "computes tensor * tensor outside einsum"),
        ("return (A * x).sum(-1)", "uses torch.Tensor.sum"),
        ("return torch.einsum('mn->m', A * x)", "computes tensor * tensor outside einsum"),
        ("return torch.einsum('mn->m', ((A + x) ** 2 - (A - x) ** 2) / 4)", "computes tensor + tensor"),
        (
            "y = A\n            y *= x\n            return torch.einsum('mn->m', y)",
            "computes tensor * tensor",
        ),
        ("return torch.einsum('mn->m', A.mul(x))", "uses torch.Tensor.mul"),
        ("return torch.einsum('mn->m', A.__mul__(x))", "uses torch.Tensor.__mul__"),
        ("return torch.einsum('mn->m', operator.mul(A, x))", "uses operator.mul"),
        ("return torch.sum(torch.einsum('mn,n->mn', A, x), -1)", "uses torch.sum"),
    ],
)
def test_tensor_arithmetic_beside_einsum_is_flagged(course: Course, body: str, detail: str) -> None:
    source = f"""
        import operator
        import torch

        def matvec(A, x):
            {body}
    """
    found = scan(course, source, "matvec")["matvec"]
    assert any(f.startswith(("6: ", "7: ")) and detail in f for f in found), found


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("getattr(torch.softmax, '__globals__')", "looks up '__globals__' by name"),
        ("getattr(torch, '_C')", "looks up '_C' by name"),
        ("'{0.__globals__}'.format(torch.softmax)", "names __globals__ in a string"),
        ("torch.softmax.__wrapped__", "uses torch.softmax.__wrapped__"),
        ("torch.exp.__self__", "uses torch.exp.__self__"),
        ("setattr(torch, 'exp', None)", "uses setattr"),
        ("operator.attrgetter('x')(torch)", "uses operator.attrgetter"),
        ("torch.jit.CompilationUnit('')", "uses torch.jit.CompilationUnit"),
        ("type.mro(torch.Tensor)", "uses type.mro"),
        ("F.cross_entropy(x[None], x[None])", "uses torch.nn.functional.cross_entropy"),
        ("F.nll_loss(x[None], x[None])", "uses torch.nn.functional.nll_loss"),
        ("torch.nn.CrossEntropyLoss()(x[None], x[None])", "uses torch.nn.CrossEntropyLoss"),
        ("torch.nn.NLLLoss()(x[None], x[None])", "uses torch.nn.NLLLoss"),
        ("torch.logaddexp(x, x)", "uses torch.logaddexp"),
    ],
)
def test_escape_hatches_and_softmax_equivalents_are_flagged(course: Course, body: str, detail: str) -> None:
    source = f"""
        import operator
        import torch
        import torch.nn.functional as F

        def logsumexp(x, dim=-1, keepdim=False):
            return {body}
    """
    found = scan(course, source, "logsumexp")["logsumexp"]
    assert any(f.startswith("7: ") and detail in f for f in found), found


def test_names_in_strings_spare_docstrings_and_harmless_names(course: Course) -> None:
    source = '''
        """Mentions __globals__ and __wrapped__ in prose, which names nothing."""
        import torch

        def logsumexp(x, dim=-1, keepdim=False):
            """Not torch.softmax.__globals__ either."""
            m = getattr(torch, "amax")(x, dim=dim, keepdim=True)
            return (m + (x - m).exp().sum(dim, keepdim=True).log()).squeeze(dim) if not keepdim else m
    '''
    assert scan(course, source, "logsumexp") == {"logsumexp": []}
    assert found("import pickle\ndef f(x):\n    return x\n", *load_sandbox(course)) == ["1:imports pickle"]
    threads = "from concurrent.futures import ThreadPoolExecutor\ndef f(x):\n    return x\n"
    assert found(threads, *load_sandbox(course)) == ["1:imports concurrent.futures"]


def load_sandbox(course: Course) -> tuple[RuleSet, ...]:
    return (course.rule_sets["sandbox"],)
