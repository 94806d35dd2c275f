"""The rules a worker guards each call with (forbidden calls, call counts, the torch function mode).

The grader sends an exercise's rules with the first call of that exercise that a worker gets
(`rules` and `rules_key`: handle.Worker._encoded); later calls name them by the key. A call with no
`rules_key` carries its own (tests, tools). A device worker turning to another exercise forgets
them all, and the grader sends them again (device_lease). Student code runs in this process and
could change what is kept here as it could change the guards themselves: they are a second line
behind the kernel's, and the grader judges every reply (engine.violations).
"""

from __future__ import annotations

from typing import Any

Rules = tuple[dict[str, str], dict[str, tuple[int, int | None, str]], bool | None]
_RULES: dict[str, Rules] = {}  # by the grader's key: each exercise's rules come with its first call


def of(req: dict[str, Any]) -> Rules | None:
    """The call's rules: sent with it, or (`rules_key`) sent once with an earlier call."""
    if "rules_key" not in req:
        return _parse(req)
    key = str(req["rules_key"])
    if isinstance(req.get("rules"), dict):
        _RULES[key] = _parse(req["rules"])
    return _RULES.get(key)


def _parse(given: dict[str, Any]) -> Rules:
    bounds = {
        k: (int(v[0]), None if v[1] is None else int(v[1]), str(v[2]))
        for k, v in given.get("bounds", {}).items()
    }
    watch = given.get("watch")
    return dict(given.get("forbid", {})), bounds, None if watch is None else bool(watch)


def forget() -> None:
    """A device worker turning to another exercise: that exercise's calls bring their rules again."""
    _RULES.clear()
