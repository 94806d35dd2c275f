"""Rule sets: the course's named restrictions (forbidden calls, modules, attributes, syntax, call
counts) and the merged `Rules` of one exercise. course.toml declares them; engine.rules applies
them to the source, the sandbox's guards and audit hook at run time."""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from typing import Any

SYNTAX_BANS = frozenset({"loop", "matmul_operator", "tensor_arithmetic", "names_in_strings", "hidden_routes"})


_WILD = re.compile(r"[*?\[]")


class PatternSet:
    """Whether a whole dotted name matches any of some fnmatch patterns (case-sensitive).

    Plain names (most of an allow-list's thousands) are a set look-up; only the patterns with a
    wildcard are compiled, into one regex: compiling them all cost a grading process a quarter
    of a second before its first check."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.exact = frozenset(p for p in patterns if not _WILD.search(p))
        wild = [p for p in patterns if _WILD.search(p)]
        self._regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in wild)) if wild else None

    def match(self, name: str) -> bool:
        return name in self.exact or (self._regex is not None and self._regex.match(name) is not None)


@functools.lru_cache(maxsize=256)
def pattern_set(patterns: tuple[str, ...]) -> PatternSet:
    """The PatternSet of `patterns`, made once per process."""
    return PatternSet(patterns)


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
    allowed: tuple[str, ...] = ()  # when set: the only library names graded code may use
    allowed_words: str = ""  # the allowed API in words, for the refusal

    def admits(self, name: str) -> bool:
        """Whether the allow-list (if any) admits the dotted `name`."""
        return not self.allowed or pattern_set(self.allowed).match(name)


@dataclass(frozen=True)
class Rules:
    """The restrictions in force for one exercise, merged from its rule sets."""

    sets: tuple[RuleSet, ...] = ()
    allow: tuple[str, ...] = ()

    def forbidden_calls(self) -> dict[str, str]:
        """Pattern -> reason, for every call forbidden here (allowed names removed)."""
        return dict(self._forbidden_calls)

    @functools.cached_property
    def _forbidden_calls(self) -> dict[str, str]:  # asked for on every call a worker answers
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

    def not_allowed(self, name: str) -> RuleSet | None:
        """The first rule set whose allow-list leaves `name` out (the exercise's `allow` admits)."""
        if name in self.allow:
            return None
        return next((rs for rs in self.sets if not rs.admits(name)), None)

    def has_allow_list(self) -> bool:
        return any(rs.allowed for rs in self.sets)

    def syntax(self) -> dict[str, str]:
        return {s: rs.why for rs in self.sets for s in rs.syntax}

    def call_counts(self) -> dict[str, tuple[int, int | None, str]]:
        """Dotted name -> (at least, at most or None, reason)."""
        return dict(self._call_counts)

    @functools.cached_property
    def _call_counts(self) -> dict[str, tuple[int, int | None, str]]:
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


def parse_apis(apis: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """`[apis.NAME]` groups: NAME -> (words, dotted patterns: every name under every owner)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for group, body in apis.items():
        words = str(body.get("words", "")).strip()  # empty: admitted, never shown (the system)
        owners, names = body.get("owners", []), body.get("names", [])
        patterns = [f"{o}.{n}" for o in owners for n in names]
        patterns += [f"{o}.{n}_" for o in owners if o == "torch.Tensor" for n in names if "*" not in n]
        out[group] = (words, tuple(patterns) + tuple(body.get("also", [])))
    return out


def _allowed(
    name: str, entries: list[str], apis: dict[str, tuple[str, tuple[str, ...]]]
) -> tuple[tuple[str, ...], str]:
    patterns: list[str] = []
    words: list[str] = []
    for entry in entries:
        if "." in entry:
            patterns.append(entry)
            words.append(entry)
        elif entry in apis:
            patterns.extend(apis[entry][1])
            words.extend([apis[entry][0]] if apis[entry][0] else [])
        else:
            raise ValueError(f"rule set {name}: unknown api group {entry!r} (known: {sorted(apis)})")
    return tuple(patterns), ", ".join(words)


def parse_rule_set(name: str, body: dict[str, Any], apis: dict[str, Any] | None = None) -> RuleSet:
    why = str(body.get("why", "")).strip()
    if not why:
        raise ValueError(f"rule set {name}: `why` must say what the rule protects")
    syntax = tuple(body.get("syntax", []))
    bad = [s for s in syntax if s not in SYNTAX_BANS]
    if bad:
        raise ValueError(f"rule set {name}: unknown syntax ban {bad[0]!r} (known: {sorted(SYNTAX_BANS)})")
    allowed, allowed_words = _allowed(name, list(body.get("allowed", [])), parse_apis(apis or {}))
    return RuleSet(
        name=name,
        allowed=allowed,
        allowed_words=allowed_words,
        why=why,
        calls=tuple(body.get("calls", [])),
        modules=tuple(body.get("modules", [])),
        attributes=tuple(body.get("attributes", [])),
        syntax=syntax,
        at_least=tuple((k, int(v)) for k, v in body.get("at_least", {}).items()),
        at_most=tuple((k, int(v)) for k, v in body.get("at_most", {}).items()),
    )
