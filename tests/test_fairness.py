"""Every requirement a check tests is told: hidden checks add inputs, never requirements.

The model solutions are graded while recording what each check exercised (input dtypes,
infinities and NaN, large magnitudes, arguments required unchanged, autograd; see
tests/recording.py). For every exercise of every topic in course.toml:
- what its hidden checks exercise, a public check exercises too;
- the stub's docstring (or its module's) states each of those properties;
- what the summary in course.toml promises, a public check exercises.
"""

from __future__ import annotations

import ast
import re

import pytest

from dlgrade.core.manifest import Course, load_course
from tests.recording import Recording
from tests.shared import Shared
from tests.support import ROOT

COURSE = load_course(ROOT)
TOPICS = [t.id for t in COURSE.topics]

# How a docstring states a property: a pattern it must match (case-insensitive).
STATED = {
    "dtype:float32": r"float32",
    "dtype:float64": r"float64",
    "nonfinite": r"\binf\b|-inf|\bnan\b",
    "large": r"\b\d{3,}\.?|\b\de\d+|large|huge|overflow",
    "autograd": r"gradient|autograd",
}


def stated(prop: str, text: str) -> bool:
    if prop.startswith("unmodified:"):
        name = re.escape(prop.split(":", 1)[1])
        says = r"(unchanged|in place|modif|never chang)"
        return bool(
            re.search(rf"\b({name}|inputs?)\b[^.]*{says}|{says}[^.]*\b({name}|inputs?)\b", text, re.I)
        )
    return bool(re.search(STATED[prop], text, re.I))


# What a summary promises, and the property a public check must exercise for it.
PROMISES = {
    r"float64": "dtype:float64",
    r"\binf\b|-inf|\bnan\b": "nonfinite",
    r"unchanged|in place": "unmodified",
}


def docstrings(course: Course, module: str) -> dict[str, str]:
    """{function name: its docstring + the module's docstring} of exercises/<module>.py."""
    tree = ast.parse((course.root / "exercises" / f"{module}.py").read_text())
    head = ast.get_docstring(tree) or ""
    return {
        node.name: f"{ast.get_docstring(node) or ''}\n{head}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def recorded(shared: Shared, course: Course, topic: str) -> Recording:
    rec = shared.recording(course, topic)  # one recording a session, also for test_reference
    assert rec.result is not None and rec.result.internal_errors == ()
    assert rec.result.score == rec.result.max_score
    return rec


@pytest.mark.parametrize("topic", TOPICS)
def test_hidden_checks_add_inputs_never_requirements(course: Course, topic: str, shared: Shared) -> None:
    rec = recorded(shared, course, topic)
    only_hidden = {
        e.id: sorted(rec.of(e.id, True) - rec.of(e.id, False))
        for e in course.topic(topic).exercises
        if rec.of(e.id, True) - rec.of(e.id, False)
    }
    assert only_hidden == {}, "exercised by hidden checks only (add a public check):"


@pytest.mark.parametrize("topic", TOPICS)
def test_docstrings_state_what_hidden_checks_test(course: Course, topic: str, shared: Shared) -> None:
    rec = recorded(shared, course, topic)
    texts = docstrings(course, course.topic(topic).module)
    unstated = {}
    for e in course.topic(topic).exercises:
        missing = sorted(p for p in rec.of(e.id, True) if not stated(p, texts.get(e.function, "")))
        if missing:
            unstated[e.id] = missing
    assert unstated == {}, "hidden checks test what the stub's docstring does not say:"


@pytest.mark.parametrize("topic", TOPICS)
def test_summaries_promise_only_what_public_checks_exercise(
    course: Course, topic: str, shared: Shared
) -> None:
    rec = recorded(shared, course, topic)
    unchecked = {}
    for e in course.topic(topic).exercises:
        public = {p.split(":")[0] if p.startswith("unmodified") else p for p in rec.of(e.id, False)}
        promised = {prop for pattern, prop in PROMISES.items() if re.search(pattern, e.summary, re.I)}
        if promised - public:
            unchecked[e.id] = sorted(promised - public)
        if re.search(r"\bexact", e.summary, re.I) and not any(
            re.search(r"\bexact", c.name, re.I) and not c.hidden
            for c in rec.checks.values()
            if c.exercise == e.id
        ):
            unchecked.setdefault(e.id, []).append("exactness")
    assert unchecked == {}, "course.toml summaries promise what no public check exercises:"


def test_a_hidden_only_property_is_found() -> None:
    """The recorder sees what it is meant to see (a check on this test's own helpers)."""
    assert stated("unmodified:dout", "dx like x; dout is left unchanged.")
    assert stated("unmodified:x", "No function changes its inputs in place.")
    assert not stated("unmodified:dout", "dx like x.")
    assert stated("dtype:float64", "x float32 or float64")
    assert not stated("large", "x of shape (N, D)")
