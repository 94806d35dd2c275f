"""`grade release`: build the student bundle, with no model solutions and no hidden check in it.

Steps, in order (each needs the one before):
1. collect every check of the course's graders (names, points, public or hidden);
2. stage the bundle beside OUT_DIR: course.toml, the stubs, the graders with the hidden
   checks cut out (dlgrade.release.strip);
3. run the staged public checks on the model solutions behind a RecordingOracle: this
   proves stripping kept every public check working and records their answers;
4. write the answers, release.json (hidden checks: names and points only), the engine
   wheel, requirements.txt, README.md;
5. grade the model solutions in the staged bundle, with replayed answers: every public
   check must pass there too;
6. move the staged folder to OUT_DIR in one rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from dlgrade import __version__
from dlgrade.core.manifest import MANIFEST_NAME, Course, load_course
from dlgrade.dev.check import require_stubs, static_problems
from dlgrade.engine.answers import AnswerBook, RecordingOracle
from dlgrade.engine.bundle import ANSWERS_FILE, BUNDLE_FILE, BundleInfo, HiddenCheck
from dlgrade.engine.oracle import Oracle
from dlgrade.engine.references import ModuleLoader
from dlgrade.engine.runner import EngineError, grade, run_checks
from dlgrade.engine.session import CheckRecord, open_session
from dlgrade.loop.reset import STUBS_DIR
from dlgrade.release.reveal import RevealError, publish_hidden
from dlgrade.release.strip import StripError, strip_hidden
from dlgrade.release.target import ReleaseError, check_target
from dlgrade.release.texts import GITIGNORE, WORKFLOW, ci_workflow, readme, requirements_txt
from dlgrade.release.wheel import WheelError, build_engine_wheel, engine_python, engine_requirements

GRADER_EXTRAS = ("conftest.py", "__init__.py")  # copied as they are; dev check allows no others


def build_release(course: Course, out_dir: Path, *, force: bool = False, reveal: bool = False) -> Path:
    """Write the student bundle of `course` to `out_dir` (atomically) and return its path; with
    `reveal` (after the due date: release.reveal), the hidden checks go in as public ones."""
    out_dir = check_target(course, out_dir, force)
    require_stubs(course, "a student bundle")
    problems = static_problems(course)
    if problems:
        raise ReleaseError(f"the course does not pass `grade dev check`: {problems[0]}")
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a bundle is for sharing
    try:
        with _no_bytecode():
            _stage(course, staging, reveal)
        for cache in list(staging.rglob("__pycache__")):
            shutil.rmtree(cache)
        _publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _publish(staging: Path, out_dir: Path) -> None:
    """Replace `out_dir` with `staging` by renames: readers see the old bundle or the new one."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
        out_dir.rename(old / "bundle")
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Importing the staged graders must not leave .pyc files in the bundle."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


def _stage(course: Course, staging: Path, reveal: bool = False) -> None:
    checks = _run(course, course.reference_dir(), collect_only=True)
    shutil.copy(course.root / MANIFEST_NAME, staging / MANIFEST_NAME)
    for folder in ("exercises", STUBS_DIR):  # stubs/: the pristine copies `grade reset` restores
        (staging / folder).mkdir()
        for module in course.modules:
            shutil.copy(course.exercises_dir() / f"{module}.py", staging / folder / f"{module}.py")
    _stage_graders(course, staging, checks, reveal)
    checks = [replace(r, hidden=False) for r in checks] if reveal else checks
    staged = load_course(staging)
    book = AnswerBook()
    loader = ModuleLoader(course.reference_dir(), prefix="dlgrade_release_reference")
    recorded = _run(
        staged,
        course.reference_dir(),
        oracle=lambda module: RecordingOracle(loader.module(module), module, book),
    )
    _expect_public_run(checks, recorded, "recording the public checks' answers")
    hidden = tuple(HiddenCheck(r.exercise, r.name, r.weight) for r in checks if r.hidden)
    (staging / ANSWERS_FILE).write_text(book.to_json(), encoding="utf-8")
    (staging / BUNDLE_FILE).write_text(BundleInfo(__version__, hidden).to_json(), encoding="utf-8")
    _stage_engine(staging)
    deferred = _verify(staging, course, checks)
    text = readme(
        course,
        hidden_count=len(hidden),
        hidden_points=deferred["points"],
        requirements=engine_requirements(),
        python=engine_python(),
        revealed=reveal,
    )
    (staging / "README.md").write_text(text, encoding="utf-8")
    (staging / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (staging / WORKFLOW).parent.mkdir(parents=True)
    (staging / WORKFLOW).write_text(ci_workflow(), encoding="utf-8")


def _run(
    course: Course,
    folder: Path,
    *,
    oracle: Callable[[str], Oracle] | None = None,
    collect_only: bool = False,
) -> list[CheckRecord]:
    """The check records of one grading session over every exercise of `course`."""
    session = open_session(course, folder, oracle=oracle, salted=False)
    session.sandbox.start()
    try:
        run_checks(session, collect_only=collect_only)
    except EngineError as exc:
        raise ReleaseError(_last_line(str(exc))) from None
    finally:
        session.close()
    broken = next((r for r in session.records.values() if r.outcome == "internal"), None)
    if broken is not None:  # e.g. an answer that is not plain data (AnswerError)
        raise ReleaseError(f"{_key(broken)}: {broken.public}")
    if session.internal_errors:
        raise ReleaseError(f"a grader failed: {_last_line(session.internal_errors[0])}")
    return list(session.records.values())


def _last_line(text: str) -> str:
    """The line of a traceback or report that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else text


def _stage_graders(course: Course, staging: Path, checks: list[CheckRecord], reveal: bool) -> None:
    (staging / "graders").mkdir()
    by_file: dict[str, tuple[set[str], set[str]]] = {}
    for r in checks:
        path, *parts = r.nodeid.split("::")
        qualified = ".".join(parts).split("[")[0]
        public, hidden = by_file.setdefault(Path(path).name, (set(), set()))
        (hidden if r.hidden else public).add(qualified)
    for name, (public, hidden) in by_file.items():
        both = public & hidden
        if both:
            raise ReleaseError(f"{name}: {sorted(both)[0]} holds both public and hidden checks; split it")
        source = (course.graders_dir() / name).read_text(encoding="utf-8")
        try:
            if reveal:
                stripped = publish_hidden(source, hidden, filename=name)
            else:
                stripped = strip_hidden(source, hidden, public, filename=name)
        except (StripError, RevealError, SyntaxError) as exc:
            raise ReleaseError(f"cannot cut the hidden checks out of {name}: {exc}") from None
        (staging / "graders" / name).write_text(stripped, encoding="utf-8")
    for extra in GRADER_EXTRAS:
        if (course.graders_dir() / extra).is_file():
            shutil.copy(course.graders_dir() / extra, staging / "graders" / extra)


def _stage_engine(staging: Path) -> None:
    (staging / "wheels").mkdir()
    try:
        wheel = build_engine_wheel(staging / "wheels")
    except WheelError as exc:
        raise ReleaseError(str(exc)) from None
    (staging / "requirements.txt").write_text(
        requirements_txt(engine_requirements(), wheel.name), encoding="utf-8"
    )


def _key(r: CheckRecord) -> str:
    return f"{r.exercise}::{r.name}"


def _expect_public_run(checks: list[CheckRecord], ran: list[CheckRecord], doing: str) -> None:
    """`ran` holds exactly the public checks of `checks`, and every one of them passed."""
    want = {_key(r) for r in checks if not r.hidden}
    got = {_key(r) for r in ran if r.outcome != "deferred"}
    leaked = sorted(_key(r) for r in ran if r.hidden and r.outcome != "deferred")
    if leaked:
        raise ReleaseError(f"{doing}: the hidden check {leaked[0]} is still in the bundle")
    if want - got:
        raise ReleaseError(f"{doing}: the public check {sorted(want - got)[0]} went missing")
    failed = next((r for r in ran if r.outcome not in ("passed", "deferred")), None)
    if failed is not None:
        raise ReleaseError(f"{doing}: {_key(failed)} does not pass the model solutions: {failed.public}")


def _verify(staging: Path, course: Course, checks: list[CheckRecord]) -> dict[str, float]:
    """The staged bundle, replaying its answers, gives the model solutions every public point.

    Returns the count and points of the checks the bundle defers (its hidden checks).
    """
    result = grade(load_course(staging), course.reference_dir(), label="reference")
    if result.internal_errors:
        raise ReleaseError(f"the bundle cannot grade: {_last_line(result.internal_errors[0])}")
    for e in result.exercises:
        bad = next((c for c in e.checks if c.visibility == "public" and not c.passed), None)
        if bad is not None:
            raise ReleaseError(f"in the bundle, {e.id}::{bad.name} fails the model solutions: {bad.message}")
    deferred = result.deferred_summary()
    if deferred["count"] != sum(r.hidden for r in checks):
        raise ReleaseError(f"the bundle defers {deferred['count']:g} checks, not the course's hidden ones")
    return deferred
