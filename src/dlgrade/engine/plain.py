"""Plain `pytest graders/`: graders/conftest.py imports `pytest_addoption` and `pytest_configure`
from here; they build a session from `--submission` and print the grade at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlgrade.core.result import score_text
from dlgrade.engine.inputs import INPUTS_CHECK
from dlgrade.engine.inputs_check import add_inputs_checks
from dlgrade.engine.plugin import GraderPlugin
from dlgrade.engine.runner import build_result, plain_pytest_session
from dlgrade.engine.session import GradingSession


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade")
    group.addoption(
        "--submission",
        default=None,
        help="folder of exercise modules to grade (default: the course's exercises/; "
        "'reference' for the model solutions)",
    )
    group.addoption("--grade-device", default="cpu", help="device for grader inputs (cpu, cuda)")


def pytest_configure(config: pytest.Config) -> None:
    if any(isinstance(p, GraderPlugin) for p in config.pluginmanager.get_plugins()):
        return  # `grade` is driving this run with its own session
    session = plain_pytest_session(
        Path(str(config.rootpath)), config.getoption("--submission"), config.getoption("--grade-device")
    )
    config.pluginmanager.register(_PlainRun(session), "dlgrade-plain")
    config.pluginmanager.register(GraderPlugin(session), "dlgrade-session")


class _PlainRun:
    """Prints the grade after a plain pytest run and cleans up the sandbox."""

    def __init__(self, session: GradingSession) -> None:
        self.session = session

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        ran = {r.exercise for r in self.session.records.values()}
        self.session.selected = tuple(e for e in self.session.selected if e.id in ran)
        add_inputs_checks(self.session)  # it has no pytest item: its verdict shows here
        result = build_result(self.session, duration_s=0.0)
        terminalreporter.write_sep("=", f"dlgrade: {score_text(result.score, result.max_score)} points")
        for e in result.exercises:
            terminalreporter.write_line(f"{e.id:<28} {e.status:<12} {score_text(e.score, e.max_score)}")
            for c in e.checks:
                if c.name == INPUTS_CHECK and c.outcome == "failed":
                    terminalreporter.write_line(f"  {INPUTS_CHECK}: {c.message}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.session.close()
