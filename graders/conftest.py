"""Lets `pytest graders/` grade a submission (`--submission PATH`; default: exercises/)."""

from dlgrade.engine.plain import pytest_addoption, pytest_configure  # noqa: F401
