"""Rule sets: the course's named restrictions (forbidden calls, modules, attributes, syntax, call
counts) and the merged `Rules` of one exercise. course.toml declares them; engine.rules applies
them to the source, the sandbox's guards and audit hook at run time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SYNTAX_BANS = frozenset({"loop", "matmul_operator", "tensor_arithmetic", "names_in_strings"})


@dataclass(frozen=True)
class RuleSet:
    """A named group of restrictions that exercises opt into."""

    name: str
    why: str
    calls: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    syntax: tuple[str, ...] = ()
    at_least: tuple[tuple[str, int], ...] = ()
    at_most: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Rules:
    """The restrictions in force for one exercise, merged from its rule sets."""

    sets: tuple[RuleSet, ...] = ()
    allow: tuple[str, ...] = ()

    def forbidden_calls(self) -> dict[str, str]:
        """Pattern -> reason, for every call forbidden here (allowed names removed)."""
        out: dict[str, str] = {}
        for rs in self.sets:
            for pattern in rs.calls:
                if pattern not in self.allow:
                    out[pattern] = rs.why
        return out

    def forbidden_modules(self) -> dict[str, str]:
        return {m: rs.why for rs in self.sets for m in rs.modules}

    def forbidden_attributes(self) -> dict[str, str]:
        return {a: rs.why for rs in self.sets for a in rs.attributes}

    def syntax(self) -> dict[str, str]:
        return {s: rs.why for rs in self.sets for s in rs.syntax}

    def call_counts(self) -> dict[str, tuple[int, int | None, str]]:
        """Dotted name -> (at least, at most or None, reason)."""
        out: dict[str, tuple[int, int | None, str]] = {}
        for rs in self.sets:
            for name, n in rs.at_least:
                lo, hi, _ = out.get(name, (0, None, rs.why))
                out[name] = (max(lo, n), hi, rs.why)
            for name, n in rs.at_most:
                lo, hi, _ = out.get(name, (0, None, rs.why))
                out[name] = (lo, n if hi is None else min(hi, n), rs.why)
        return out


def rule_refs(names: list[str], rule_sets: dict[str, RuleSet], where: str) -> tuple[RuleSet, ...]:
    missing = [n for n in names if n not in rule_sets]
    if missing:
        raise ValueError(f"{where}: unknown rule set {missing[0]!r}")
    return tuple(rule_sets[n] for n in names)


def parse_rule_set(name: str, body: dict[str, Any]) -> RuleSet:
    why = str(body.get("why", "")).strip()
    if not why:
        raise ValueError(f"rule set {name}: `why` must say what the rule protects")
    syntax = tuple(body.get("syntax", []))
    bad = [s for s in syntax if s not in SYNTAX_BANS]
    if bad:
        raise ValueError(f"rule set {name}: unknown syntax ban {bad[0]!r} (known: {sorted(SYNTAX_BANS)})")
    return RuleSet(
        name=name,
        why=why,
        calls=tuple(body.get("calls", [])),
        modules=tuple(body.get("modules", [])),
        attributes=tuple(body.get("attributes", [])),
        syntax=syntax,
        at_least=tuple((k, int(v)) for k, v in body.get("at_least", {}).items()),
        at_most=tuple((k, int(v)) for k, v in body.get("at_most", {}).items()),
    )
