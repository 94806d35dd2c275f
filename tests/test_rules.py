"""Static rules (dlgrade.rules): names resolve through imports; a student's own names are local."""

from __future__ import annotations

import textwrap

import pytest

from dlgrade.manifest import Course
from dlgrade.rules import check_module


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
