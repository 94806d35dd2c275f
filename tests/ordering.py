"""The longest tests start first under pytest-xdist, so no worker is left with one at the end.

xdist's worksteal scheduler hands each worker a contiguous share of the collection (the first
idle one the first `len // workers` tests, and so on) and later moves tests from the end of a
busy worker's queue to an idle one; a test that runs for minutes and starts late keeps the
whole run waiting. This plugin reorders the collection (after -m/-k deselection) so that each
worker's share begins with long tests, the groups spread over the shares by their expected
seconds, and the other tests keep their order. A group stays whole in one share: its tests
share a module-scoped fixture that a second worker would build again.

Only the order changes, never what runs, and only under xdist (the workers must agree, so it
depends on nothing but the collection and the worker count). The seconds are worker-seconds
from `--durations` of a whole run (docs/performance.md); a new test that takes more than
about half a minute adds its line.
"""

from __future__ import annotations

import os

import pytest

# node id prefix -> expected worker-seconds of the tests it names (a whole run, quiet machine)
LONG: dict[str, float] = {
    "tests/test_nbgrader_pipeline.py::": 240.0,  # the real nbgrader pipeline, one module fixture
    "tests/test_release_venv.py::": 90.0,  # a fresh virtual environment
    "tests/test_mutants.py::test_the_reviewed_equivalents_name_mutants_that_exist": 15.0,
    "tests/test_unprivileged.py::": 55.0,
    # with the known mistakes' rounds (tests/rounds.py) it is the first to ask for
    "tests/test_fresh_draws.py::test_the_same_verdicts_with_and_without_a_secret": 140.0,
    "tests/test_lanes.py::": 40.0,
    "tests/test_device_worker.py::test_the_known_mistakes_get_the_same_verdicts": 40.0,
    "tests/test_recipe.py::": 32.0,
    "tests/test_release_reveal.py::": 32.0,
    "tests/test_gradebooks.py::": 20.0,  # its batch shared with test_job_arrays (tests/batches.py)
    "tests/test_job_arrays.py::": 35.0,
    "tests/test_package.py::": 20.0,  # one module fixture: the package every test reads
}


def long_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """`items` reordered so each of `workers` contiguous shares starts with its long groups."""
    groups: dict[str, list[pytest.Item]] = {}
    rest: list[pytest.Item] = []
    for item in items:
        prefix = next((p for p in LONG if item.nodeid.startswith(p)), None)
        (groups.setdefault(prefix, []) if prefix else rest).append(item)
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for prefix in sorted(groups, key=lambda p: -LONG[p]):
        i = load.index(min(load))
        heads[i] += groups[prefix]
        load[i] += LONG[prefix]
    out: list[pytest.Item] = []
    left = len(items)
    for i, head in enumerate(heads):
        size = left // (workers - i)  # what xdist sends the i-th idle worker
        take = max(0, size - len(head))
        out += head + rest[:take]
        rest = rest[take:]
        left -= len(head) + take
    return out + rest


class LongFirst:
    @pytest.hookimpl(trylast=True)  # after -m/-k have deselected
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
        if workers > 1 and os.environ.get("PYTEST_XDIST_WORKER"):
            items[:] = long_first(items, workers)
