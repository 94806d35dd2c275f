"""The pytest plugin that turns grader tests into graded checks.

`grade` drives pytest with a `GraderPlugin` bound to its session. Plain `pytest graders/`
works too: graders/conftest.py imports `pytest_addoption` and `pytest_configure` from here,
which build a session from `--submission` and print the grade at the end.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dlgrade.core.manifest import Course, Exercise
from dlgrade.core.result import Outcome
from dlgrade.core.secret import hidden_inputs
from dlgrade.engine.bundle import DEFERRED_MESSAGE, HiddenCheck
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.student import PRINTED_CHARS, ExerciseSandbox, StudentError, StudentModule
from dlgrade.kit.checks import HINT_KINDS_DEFAULT, CheckFailure
from dlgrade.sandbox.pool import Sandbox, SandboxError


@dataclass
class CheckRecord:
    exercise: str
    name: str
    weight: float
    hidden: bool
    hint: str
    nodeid: str
    outcome: Outcome = "not_run"
    public: str = "not run"
    secret: str = "not run"
    hint_when: tuple[str, ...] = HINT_KINDS_DEFAULT
    kind: str = ""  # what a failure was about (checks.KINDS), or the outcome when the check raised

    @property
    def visibility(self) -> str:
        return "hidden" if self.hidden else "public"

    @property
    def shown_hint(self) -> str:
        """The hint, where the check failed with a wrong answer of a kind it is about."""
        about = self.outcome in ("failed", "raised") and self.kind in self.hint_when
        return self.hint if about and not self.hidden else ""


@dataclass
class GradingSession:
    """Everything one grading run needs and produces."""

    course: Course
    folder: str
    selected: tuple[Exercise, ...]
    sandbox: Sandbox
    device: str = "cpu"
    blocked: dict[str, StudentError] = field(default_factory=dict)
    import_failures: dict[str, str] = field(default_factory=dict)
    reference: ModuleLoader | None = None
    records: dict[str, CheckRecord] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)
    boxes: dict[str, ExerciseSandbox] = field(default_factory=dict)
    brief_reports: bool = False  # True under `grade`: pytest's own reports are not shown
    # The `reference` fixture for a topic module; None: the model solutions in reference/.
    # A student bundle replays recorded answers, a release records them (dlgrade.engine.answers).
    oracle: Callable[[str], Oracle] | None = None
    deferred: tuple[HiddenCheck, ...] = ()  # declared, not run here: a bundle's hidden checks
    # "public" or "hidden": run only those checks; the others stay in the result as not run,
    # so every check keeps its share of the exercise's points.
    visibility: str | None = None
    run_order: list[str] = field(default_factory=list)  # exercise ids, in the order their checks run
    fatal: Exception | None = None  # stops the run: raised by run_checks once pytest is done
    secret: str | None = None  # the course secret, which salts hidden checks' inputs (dlgrade.core.secret)
    unsalted: bool = False  # a hidden check ran without a secret
    _opened: set[str] = field(default_factory=set)

    def box(self, exercise_id: str) -> ExerciseSandbox:
        box = self.boxes.get(exercise_id)
        if box is None and not self._opened and self.fatal is None:
            try:
                self.sandbox.admit()  # before the first worker: may refuse an uncontained run
            except SandboxError as exc:
                self.fatal = exc
        if self.fatal is not None:
            pytest.exit(str(self.fatal), returncode=3)
        if box is None:
            box = self.boxes[exercise_id] = ExerciseSandbox(
                self.sandbox,
                self.course,
                self.course.exercise(exercise_id),
                self.folder,
                self.import_failures,
            )
            self._opened.add(exercise_id)
            self._prefetch_after(exercise_id)
        return box

    def _prefetch_after(self, exercise_id: str) -> None:
        """Start the next exercise's worker now: it imports the module while this one is graded."""
        if exercise_id not in self.run_order:
            return
        for later in self.run_order[self.run_order.index(exercise_id) + 1 :]:
            if later in self._opened or later in self.blocked:
                continue
            e = self.course.exercise(later)
            if e.module not in self.import_failures:
                self.sandbox.prespawn(ExerciseSandbox.spec_for(e, self.folder))
            return

    def close(self) -> None:
        for box in self.boxes.values():
            box.close()
        self.boxes.clear()
        self.sandbox.release_spares()
        self.sandbox.sweep()  # every process the student code started is gone when grading returns


class ModuleLoader:
    """Imports the model solutions (trusted code) into the grading process, once each."""

    def __init__(self, folder: Path, prefix: str = "dlgrade_reference") -> None:
        self.folder = folder
        self.prefix = prefix
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            qualified = f"{self.prefix}.{name}"
            spec = importlib.util.spec_from_file_location(qualified, self.folder / f"{name}.py")
            if spec is None or spec.loader is None:
                raise FileNotFoundError(self.folder / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[qualified] = module
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]


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
        if self.session.oracle is not None:
            return
        if self.session.reference is None:
            self.session.reference = ModuleLoader(self.session.course.reference_dir())
        for module in dict.fromkeys(self.session.course.exercise(e).module for e in self.session.run_order):
            try:
                self.session.reference.module(module)
            except Exception as exc:  # reported once here; the checks that need it fail too
                self.session.internal_errors.append(f"reference/{module}.py did not import: {exc!r}")

    def _add_deferred(self, wanted: set[str]) -> None:
        for d in self.session.deferred:
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
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> pytest.TestReport | None:
        key = item.stash.get(_KEY, None)
        if key is None:
            return None
        record = self.session.records[key]
        exc = call.excinfo.value if call.excinfo is not None else None
        if call.when == "call" and exc is None:
            record.outcome, record.public, record.secret = "passed", "", ""
        elif exc is not None and call.when in ("setup", "call"):
            record.outcome, record.public, record.secret = classify(exc)
            record.kind = exc.kind if isinstance(exc, CheckFailure) else record.outcome
            record.public += self._printed(record.exercise)
            if record.outcome == "internal":
                tb = "".join(traceback.format_exception(exc)[-3:]).strip()
                self.session.internal_errors.append(f"{item.nodeid}: {tb}")
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
        more = f" (+{len(lines) - 3} more lines)" if len(lines) > 3 else ""
        return f" (your code printed: {' | '.join(lines[:3])[:PRINTED_CHARS]}{more})"

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
        return StudentModule(box)

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> Oracle:
        """The model solutions of this check's topic (trusted; they run in the grading process)."""
        record = self.session.records[request.node.stash[_KEY]]
        module = self.session.course.exercise(record.exercise).module
        if self.session.oracle is not None:
            return self.session.oracle(module)
        if self.session.reference is None:
            self.session.reference = ModuleLoader(self.session.course.reference_dir())
        return Oracle(self.session.reference.module(module))

    @pytest.fixture
    def device(self) -> str:
        """Where graders put their inputs: 'cpu' unless grading runs with --device."""
        return self.session.device


_KEY = pytest.StashKey[str]()


# --- plain `pytest graders/` -------------------------------------------------------------


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
    from dlgrade.engine.runner import plain_pytest_session

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
        from dlgrade.engine.runner import build_result

        ran = {r.exercise for r in self.session.records.values()}
        self.session.selected = tuple(e for e in self.session.selected if e.id in ran)
        result = build_result(self.session, duration_s=0.0)
        terminalreporter.write_sep("=", f"dlgrade: {result.score:g}/{result.max_score:g} points")
        for e in result.exercises:
            terminalreporter.write_line(f"{e.id:<28} {e.status:<12} {e.score:g}/{e.max_score:g}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.session.close()
