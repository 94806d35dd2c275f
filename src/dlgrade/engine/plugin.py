"""The pytest plugin that turns grader tests into graded checks.

`grade` drives pytest with a `GraderPlugin` bound to its session (engine.runner); plain
`pytest graders/` registers one through engine.plain.
"""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from dlgrade.core.calls import StudentError
from dlgrade.core.declare import HINT_KINDS_DEFAULT, CheckFailure, GraderMistake
from dlgrade.core.result import Outcome
from dlgrade.core.secret import fresh_inputs, hidden_inputs
from dlgrade.engine.bundle import DEFERRED_MESSAGE
from dlgrade.engine.exercise_sandbox import PRINTED_CHARS
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.session import CheckRecord, GradingSession
from dlgrade.engine.student import StudentModule


def classify(exc: BaseException) -> tuple[Outcome, str, str]:
    """(outcome, public message, hidden-safe message) for what a check raised."""
    if isinstance(exc, CheckFailure):
        return "failed", exc.public, exc.hidden
    if isinstance(exc, StudentError):
        return exc.outcome, exc.public(), exc.hidden()
    return (
        "internal",
        f"the grader failed on this result ({type(exc).__name__}: {exc})",
        "the grader could not judge this result",
    )


class GraderPlugin:
    """Collects the checks of the selected exercises, provides fixtures, records outcomes."""

    def __init__(self, session: GradingSession) -> None:
        self.session = session
        self._last_item: dict[str, str] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "dlgrade(exercise, name, points, hidden, hint): a graded check")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        wanted = {e.id for e in self.session.selected}
        known = {e.id for e in self.session.course.exercises}
        keep, drop = [], []
        for item in items:
            mark = item.get_closest_marker("dlgrade")
            if mark is None:
                drop.append(item)
                continue
            exercise = mark.kwargs.get("exercise")
            if exercise not in known:
                self.session.internal_errors.append(f"{item.nodeid}: unknown exercise {exercise!r}")
                drop.append(item)
                continue
            if exercise not in wanted:
                drop.append(item)
                continue
            key = f"{exercise}::{mark.kwargs['name']}"
            if key in self.session.records:
                self.session.internal_errors.append(f"{item.nodeid}: check name {key!r} used twice")
                drop.append(item)
                continue
            record = self.session.records[key] = CheckRecord(
                exercise=exercise,
                name=str(mark.kwargs["name"]),
                weight=float(mark.kwargs.get("points", 1.0)),
                hidden=bool(mark.kwargs.get("hidden", False)),
                hint=str(mark.kwargs.get("hint", "")),
                nodeid=item.nodeid,
                hint_when=tuple(mark.kwargs.get("hint_when", HINT_KINDS_DEFAULT)),
            )
            if self.session.visibility not in (None, record.visibility):
                drop.append(item)  # reported as not run
                continue
            item.stash[_KEY] = key
            self._last_item[exercise] = item.nodeid
            if exercise not in self.session.run_order:
                self.session.run_order.append(exercise)
            keep.append(item)
        self._add_deferred(wanted)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        self._import_references()

    def _import_references(self) -> None:
        """Import the model solutions now, before any student code runs (docs/sandbox.md)."""
        modules = (self.session.course.exercise(e).module for e in self.session.run_order)
        self.session.internal_errors.extend(self.session.answer_source().preload(modules))

    def _add_deferred(self, wanted: set[str]) -> None:
        for d in self.session.answer_source().deferred:
            key = f"{d.exercise}::{d.name}"
            if d.exercise not in wanted:
                continue
            if key in self.session.records:
                self.session.internal_errors.append(f"deferred check {key!r} is also in the graders")
                continue
            self.session.records[key] = CheckRecord(
                exercise=d.exercise,
                name=d.name,
                weight=d.points,
                hidden=True,
                hint="",
                nodeid="",
                outcome="deferred",
                public=DEFERRED_MESSAGE,
                secret=DEFERRED_MESSAGE,
            )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.session.internal_errors.append(
                f"could not collect {report.nodeid}: {report.longreprtext[-500:]}"
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Graded in lanes (engine.lanes): a check runs in the lane that claims its exercise."""
        key = item.stash.get(_KEY, None)
        claims = self.session.claims
        if key is not None and claims is not None and not claims.take(self.session.records[key].exercise):
            pytest.skip("graded in another lane")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> pytest.TestReport | None:
        key = item.stash.get(_KEY, None)
        if key is None:
            return None
        record = self.session.records[key]
        if self.session.claims is not None and not self.session.claims.mine(record.exercise):
            return None  # another lane's: its records are taken from that lane
        exc = call.excinfo.value if call.excinfo is not None else None
        if call.when == "call" and exc is None:
            record.outcome, record.public, record.secret = "passed", "", ""
        elif exc is not None and call.when in ("setup", "call"):
            record.outcome, record.public, record.secret = classify(exc)
            record.kind = exc.kind if isinstance(exc, CheckFailure) else record.outcome
            record.public += self._printed(record.exercise)
            if record.outcome == "internal":
                tb = (
                    str(exc)
                    if isinstance(exc, GraderMistake)
                    else "".join(traceback.format_exception(exc)[-3:])
                )
                tb = tb.strip()
                self.session.internal_errors.append(f"{item.nodeid}: {tb}")
        if call.when == "call" or (exc is not None and call.when == "setup"):
            box = self.session.boxes.get(record.exercise)
            self.session.failures.note(record.exercise, record.outcome, record.kind, box.log if box else None)
        if call.when == "teardown" and self._last_item.get(record.exercise) == item.nodeid:
            box = self.session.boxes.pop(record.exercise, None)
            if box is not None:
                box.close()
        if not self.session.brief_reports:
            return None  # plain pytest: let pytest build its usual, detailed report
        # `grade` reads the records, not the reports: skip pytest's costly traceback rendering.
        return pytest.TestReport(
            item.nodeid,
            item.location,
            {},
            "failed" if exc else "passed",
            record.public if exc else None,
            call.when,  # type: ignore[arg-type] # makereport never sees "collect"
            (),
            call.duration,
            call.start,
            call.stop,
        )

    def _printed(self, exercise: str) -> str:
        """' (your code printed: ...)' with what this check's calls printed, if anything.
        Only a public message gets it: a hidden check's inputs could be printed."""
        box = self.session.boxes.get(exercise)
        if box is None or not box.printed:
            return ""
        lines = [line for text in box.printed for line in text.splitlines() if line.strip()]
        left = max(box.printed_lines, len(lines)) - min(len(lines), 3)  # counted by the workers
        more = f" (+{left:,} more lines)" if left > 0 else ""
        return f" (your code printed: {' | '.join(lines[:3])[:PRINTED_CHARS]}{more})"

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session) -> Any:
        """Draws made while collecting are fresh where grading counts (dlgrade.core.secret).
        A first worker starts now if the zygote has come up since the run began (a lane's
        zygote, forked when the lane was): it imports the module while pytest collects."""
        if not session.config.option.collectonly:
            self.session.head_start()
        with fresh_inputs(self.session.fresh_secret()):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        """Every check's draws (fixtures included) are fresh where grading counts."""
        with fresh_inputs(self.session.fresh_secret()):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        """A hidden check draws its inputs salted with the course secret (dlgrade.core.secret)."""
        key = item.stash.get(_KEY, None)
        if key is None or not self.session.records[key].hidden:
            return (yield)
        self.session.unsalted |= self.session.secret is None
        with hidden_inputs(self.session.secret):
            return (yield)

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> StudentModule:
        """The student's module for this check's exercise, running in the sandbox."""
        record = self.session.records[request.node.stash[_KEY]]
        blocked = self.session.blocked.get(record.exercise)
        if blocked is not None:
            raise blocked  # a static rule or import problem: the check does not run
        box = self.session.box(record.exercise)
        box.printed.clear()  # what this check's calls print is shown with its failure
        box.printed_lines = 0
        box.log.clear()  # the calls a failure of this check is diagnosed on (engine.diagnosis)
        box.check = (record.name, record.hidden)  # whose calls they are (engine.inputs)
        return StudentModule(box)

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> Oracle:
        """The model solutions of this check's topic (trusted; they run in the grading process)."""
        record = self.session.records[request.node.stash[_KEY]]
        module = self.session.course.exercise(record.exercise).module
        return self.session.answer_source().oracle(module)

    @pytest.fixture
    def device(self) -> str:
        """Where graders put their inputs: 'cpu' unless grading runs with --device."""
        return self.session.device


_KEY = pytest.StashKey[str]()
