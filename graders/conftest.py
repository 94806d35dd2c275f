"""Lets `pytest graders/` grade a submission (`--submission PATH`; default: exercises/)."""

from dlgrade.engine.plugin import pytest_addoption, pytest_configure  # noqa: F401
