"""Shared fixtures: the bundled course, loaded once; graded results shared by the session."""

from __future__ import annotations

import os

import pytest
import torch

from dlgrade.core.manifest import Course, load_course
from tests.ordering import LongFirst
from tests.shared import Shared
from tests.support import ROOT


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT)


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """Graded results computed once per session (tests/shared.py). Under pytest-xdist each
    worker's temporary folder lies in one folder of this run: the workers share that one."""
    base = tmp_path_factory.getbasetemp()
    return Shared(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LongFirst(), "dlgrade-long-first")  # tests/ordering.py
