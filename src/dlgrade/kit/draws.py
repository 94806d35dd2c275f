"""Hypothesis's draws for the graders, recorded once so that grading does not run hypothesis.

`cases.sizes` asks hypothesis (derandomised, seeded) for lists of distinct axis sizes. Under
the pinned hypothesis version a key always gives the same draw, but each draw costs its
engine tens of milliseconds and its import a full garbage collection, and the course asks
for about forty: a large share of a whole-course run. `grade dev draws` grades the model
solutions, then records every draw the graders asked for in `draws.json` beside this module,
drawn live by hypothesis, with hypothesis's version. Grading reads the table; a key that is
not in it (a new grader, another hypothesis version) is drawn live: slower, same values.

Nothing here decides a verdict: these are the graders' inputs. tests/test_draws.py redraws
every entry with hypothesis and compares, and `grade dev check` reports keys the graders
ask for that the table lacks.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from dlgrade.core.atomic import write_atomic

TABLE = Path(__file__).with_name("draws.json")
Key = tuple[int, int, int, int, int]  # (axes, draws, seed, low, high), as cases._sizes takes them
Draw = tuple[tuple[int, ...], ...]

asked: set[Key] = set()  # every key looked up in this process (dev check and dev draws read it)


def hypothesis_version() -> str:
    try:
        return importlib.metadata.version("hypothesis")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _encode(key: Key) -> str:
    return ",".join(map(str, key))


@functools.cache
def recorded() -> dict[Key, Draw]:
    """The table, or nothing when it is missing, unreadable or from another hypothesis version."""
    try:
        data = json.loads(TABLE.read_text(encoding="utf-8"))
        if data["hypothesis"] != hypothesis_version():
            return {}
        return {
            tuple(int(p) for p in k.split(",")): tuple(tuple(int(v) for v in d) for d in draws)  # type: ignore[misc]
            for k, draws in data["draws"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def lookup(key: Key) -> Draw | None:
    asked.add(key)
    return recorded().get(key)


def missing() -> list[Key]:
    """Keys asked for in this process that the table does not hold."""
    table = recorded()
    return sorted(k for k in asked if k not in table)


def write(keys: Iterable[Key], draw: Callable[..., Draw], path: Path = TABLE) -> Path:
    """Draw every key live and write the table atomically."""
    table = {_encode(k): [list(d) for d in draw(*k)] for k in sorted(set(keys))}
    text = json.dumps({"hypothesis": hypothesis_version(), "draws": table}, indent=0, sort_keys=True)
    write_atomic(path, text + "\n")
    recorded.cache_clear()
    return path
