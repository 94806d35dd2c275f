"""Cutting hidden checks out of a grader: they and their own helpers go, the public part works."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from dlgrade.release.strip import StripError, strip_hidden
from tests.support import FIXTURES

SOURCE = (FIXTURES / "graders" / "mixed_checks.py").read_text()
HIDDEN = {"test_hidden", "CheckGroup.test_hidden_method"}
PUBLIC = {"test_public", "CheckGroup.test_public_method"}


def top_level_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_hidden_checks_and_their_own_helpers_go() -> None:
    out = strip_hidden(SOURCE, HIDDEN, PUBLIC)
    names = top_level_names(out)
    assert {"test_public", "CheckGroup", "CheckGroup.test_public_method"} <= names
    assert {"shared_cases", "public_data", "SHARED_SCALE"} <= names  # used by public code (a fixture too)
    assert names.isdisjoint({"test_hidden", "CheckGroup.test_hidden_method", "secret_cases", "secret_extra"})
    for text in ("SECRET_SCALE", "9999", "4242", "hidden values", "hidden in a class", "hidden=True"):
        assert text not in out
    assert "# compare on the shared cases" in out  # comments inside kept code stay
    assert '"""A grader file mixing' in out  # so does the module docstring


def undefined_names(source: str) -> str:
    """What ruff's undefined-name rule (F821) reports for `source`; empty when nothing."""
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "F821",
            "--stdin-filename",
            "g.py",
            "-",
        ],
        input=source,
        text=True,
        capture_output=True,
    )
    return "" if lint.returncode == 0 else lint.stdout


def test_the_public_part_names_nothing_undefined() -> None:
    out = strip_hidden(SOURCE, HIDDEN, PUBLIC)
    assert undefined_names(out) == ""
    assert "shared_cases" in undefined_names(out.replace("def shared_cases(", "def renamed("))


def test_with_nothing_hidden_only_the_comments_between_statements_go() -> None:
    out = strip_hidden(SOURCE, set(), PUBLIC | HIDDEN)
    assert top_level_names(out) == top_level_names(SOURCE)
    assert "seed 4242" not in out


def test_public_code_that_uses_a_hidden_check_is_refused() -> None:
    source = SOURCE + "\n\ndef test_also_public():\n    test_hidden(None, None)\n"
    with pytest.raises(StripError, match="uses the hidden check 'test_hidden'"):
        strip_hidden(source, HIDDEN, PUBLIC | {"test_also_public"})


def test_an_unknown_check_is_refused() -> None:
    with pytest.raises(StripError, match="'test_nowhere' is not a top-level function"):
        strip_hidden(SOURCE, {"test_nowhere"}, PUBLIC)
