"""A worker's report that graded code broke a rule, in the grader's own words.

The worker may only say WHICH rule it broke (and, for a rule with a wildcard, which call
matched it; for the sandbox, which kind of breach). The grader checks each name against the
rules it sent with the call and the sandbox's own tables, then writes the message itself. A
report naming nothing the grader knows is dropped. The message a hidden check shows holds no
name the worker chose, only the rule's pattern and reason; the public one may hold a call's
dotted name, checked as such and short.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from dlgrade.sandbox import audit, lookups, sources

DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}")
WHERE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.py:[0-9]{1,6}")
SANDBOX_WHY = "graded code runs in a sandbox"
LOOKUP_VERBS = frozenset({"getattr", "setattr", "delattr"})
_OWNERS = ("?", "sys", "builtins")  # owners the look-up rules name (the worker's owner is not said)
MAX_LISTED = 8  # violations read from one reply


@dataclass(frozen=True)
class Breach:
    """One rule broken, in the grader's words: `detail` for public checks, `hidden` for hidden ones."""

    detail: str
    hidden: str
    where: str
    why: str


def _name(value: Any) -> str | None:
    return value if type(value) is str and len(value) <= 200 and DOTTED.fullmatch(value) else None


def compose(
    report: Any, forbid: dict[str, str], bounds: dict[str, tuple[int, int | None, str]]
) -> Breach | None:
    """The grader's words for one report, or None if it names no rule of this call."""
    if type(report) is not dict:
        return None
    rule, what, call = report.get("rule"), report.get("what"), _name(report.get("call"))
    where = report.get("where")
    where = where if type(where) is str and WHERE.fullmatch(where) else ""
    if type(rule) is not str:
        return None
    if what == "forbidden" and rule in forbid:
        said = call if call is not None and fnmatch.fnmatchcase(call, rule) else rule
        text = "calls {}, which this exercise forbids"
        return Breach(text.format(said), text.format(rule), where, forbid[rule])
    lo, hi, why = bounds.get(rule, (0, None, ""))
    if what == "at_most" and hi is not None:
        text = f"calls {rule} more than {hi} time(s)"
        return Breach(text, text, where, why)
    if what == "at_least" and lo > 0:
        n = report.get("count")
        text = f"must call {rule} at least {lo} time(s)"
        called = f"; called it {n}" if type(n) is int and 0 <= n < lo else ""
        return Breach(text + called, text, where, why)
    if rule == "sandbox":
        detail = _sandbox(what, call)
        if detail is not None:
            why = lookups.WHY if what in LOOKUP_VERBS else SANDBOX_WHY
            return Breach(detail, "does something graded code may not do in the sandbox", where, why)
    return None


def _sandbox(what: Any, call: str | None) -> str | None:
    if call is None:
        return None
    if what == "audit":
        denied = audit.denial(call)
        return None if denied is None else f"tried to {denied}"
    if what == "import" and call in sources.STUDENT_DENIED_IMPORTS:
        return f"imports {call}, which graded code may not use"
    if what in LOOKUP_VERBS and "." not in call and any(lookups.denied(o, call) for o in _OWNERS):
        return f"looks up {call!r} with {what}"
    return None


def first(
    reply: dict[str, Any],
    reports: list[dict[str, Any]],
    forbid: dict[str, str],
    bounds: dict[str, tuple[int, int | None, str]],
) -> Breach | None:
    """The first report of a reply (its `violations`, then the frames before it) the grader
    can put in its own words."""
    listed = reply.get("violations")
    candidates = [*(listed[:MAX_LISTED] if type(listed) is list else []), *reports]
    return next((b for b in (compose(r, forbid, bounds) for r in candidates) if b is not None), None)
