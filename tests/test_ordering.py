"""tests/ordering.py: under xdist each worker's share of the collection starts with long tests."""

from __future__ import annotations

from dataclasses import dataclass

from tests.ordering import LONG, long_first


@dataclass(frozen=True)
class Item:
    nodeid: str


def test_each_share_starts_with_its_long_groups_and_nothing_is_lost() -> None:
    short = [Item(f"short::test_{i}") for i in range(10)]
    nbgrader = [Item(f"tests/test_nbgrader_pipeline.py::test_{i}") for i in range(3)]
    venv = [Item("tests/test_release_venv.py::test_v")]
    lanes = [Item("tests/test_lanes.py::test_l")]
    items = short[:4] + nbgrader + short[4:] + venv + lanes
    out = long_first(items, 2)  # type: ignore[arg-type]
    assert sorted(i.nodeid for i in out) == sorted(i.nodeid for i in items)
    first, second = out[: len(out) // 2], out[len(out) // 2 :]
    assert first[:3] == nbgrader  # the longest group whole, at the head of the first share
    assert second[:2] == venv + lanes  # the next ones balance the other share
    assert [i for i in out if i in short] == short  # the others keep their order


def test_without_long_tests_the_order_is_kept() -> None:
    items = [Item(f"short::test_{i}") for i in range(7)]
    assert long_first(items, 3) == items  # type: ignore[arg-type]
    assert all(p.startswith("tests/test_") and (p.endswith("::") or "::test_" in p) for p in LONG)
