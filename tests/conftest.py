"""Shared fixtures: the bundled course, loaded once."""

from __future__ import annotations

import pytest
import torch

from dlgrade.core.manifest import Course, load_course
from tests.support import ROOT


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
