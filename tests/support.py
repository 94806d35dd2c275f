"""Helpers for the project's tests: build fixture submissions from files and grade them."""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core import mistakes
from dlgrade.core.manifest import Course
from dlgrade.core.result import GradeResult, exercise_status  # noqa: F401 - re-exported for tests
from dlgrade.engine.runner import grade

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# Known-wrong implementations are course data, instructor-only like reference/ (core.mistakes).
MISTAKES = ROOT / "mistakes"
_LOSES = re.compile(r"^# loses:\s*(.+)$", re.MULTILINE)
# One check per line, "exercise: check name" (check names may hold commas and colons).
_CAUGHT = re.compile(r"^# caught by:\s*(\w+):\s*(.+?)\s*$", re.MULTILINE)
_PASSES = re.compile(r"^# passes:\s*(\w+):\s*(.+?)\s*$", re.MULTILINE)
_NO_HINT = re.compile(r"^# no hint:\s*(\w+):\s*(.+?)\s*$", re.MULTILINE)
_UPSTREAM = re.compile(r"^# upstream:\s*(.+?)\s*$", re.MULTILINE)
_TOLD = re.compile(r"^# told:\s*(.+?)\s*$", re.MULTILINE)
_MODULE = re.compile(r"^# module:\s*(\w+)$", re.MULTILINE)
_EXPECT = re.compile(r"^# expect:\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Variant:
    """A known-wrong implementation: the reference with some functions redefined.

    Its header says what grading must do with it:
    `# loses: ex, ...`            exactly these exercises lose points;
    `# caught by: ex: check`      (one or more) these checks fail;
    `# passes: ex: check`         these checks pass (the mistake is not what they are about);
    `# no hint: ex: check`        these checks fail without showing their hint;
    `# upstream: ex`              every failed check of ex blames the forward it is judged on;
    `# told: words`               a failed public check's message or hint says these words;
    `# mistake: name` + `# teaches: sentence`   a misconception: failing feedback names it.
    """

    path: Path
    module: str
    loses: tuple[str, ...]
    caught: tuple[tuple[str, str], ...] = ()
    passes: tuple[tuple[str, str], ...] = ()
    no_hint: tuple[tuple[str, str], ...] = ()
    upstream: tuple[str, ...] = ()
    told: tuple[str, ...] = ()
    mistake: str = ""  # a misconception's one-line name ("" for a rule broken, an attack)
    teaches: str = ""

    @property
    def id(self) -> str:
        return f"{self.module}/{self.path.stem}"


def _pairs(pattern: re.Pattern[str], text: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.group(1), m.group(2)) for m in pattern.finditer(text))


def _named(path: Path) -> tuple[str, str]:
    m = mistakes.parse(path)  # raises on a malformed header, as `grade dev check` reports it
    return m.name, m.teaches


def variants(topic_module: str | None = None) -> list[Variant]:
    """Every known mistake (mistakes/<module>/*.py at the course root), with its header lines:
    the one way tests reach them."""
    out = []
    for path in sorted(MISTAKES.glob("*/*.py")):
        text = path.read_text()
        loses = _LOSES.search(text)
        if loses is None:
            raise ValueError(f"{path}: no '# loses: exercise, ...' line")
        caught = _pairs(_CAUGHT, text)
        if not caught:
            raise ValueError(f"{path}: no '# caught by: exercise: check name' line")
        module = _MODULE.search(text)
        v = Variant(
            path,
            module.group(1) if module else path.parent.name,
            tuple(x.strip() for x in loses.group(1).split(",")),
            caught,
            _pairs(_PASSES, text),
            _pairs(_NO_HINT, text),
            tuple(m.group(1) for m in _UPSTREAM.finditer(text)),
            tuple(m.group(1) for m in _TOLD.finditer(text)),
            *_named(path),
        )
        if topic_module is None or v.module == topic_module:
            out.append(v)
    return out


@dataclass(frozen=True)
class Hostile:
    """A submission that attacks the grader; `expect` is the status each exercise must get."""

    path: Path
    module: str
    expect: dict[str, str]

    @property
    def id(self) -> str:
        return self.path.stem

    def topic(self, course: Course) -> str:
        return course.exercise(next(iter(self.expect))).topic

    def statuses(self, course: Course) -> dict[str, str]:
        """The status of every exercise of its topic: as `# expect:` says, `passed` for the
        exercises it does not name (an attack costs only what it touches)."""
        return {e.id: self.expect.get(e.id, "passed") for e in course.topic(self.topic(course)).exercises}


def hostiles() -> list[Hostile]:
    out = []
    for path in sorted((FIXTURES / "hostile").glob("*.py")):
        text = path.read_text()
        module, expect = _MODULE.search(text), _EXPECT.search(text)
        if module is None or expect is None:
            raise ValueError(f"{path}: needs '# module: NAME' and '# expect: exercise=status, ...' lines")
        pairs = (item.strip().split("=") for item in expect.group(1).split(","))
        out.append(Hostile(path, module.group(1), {k.strip(): v.strip() for k, v in pairs}))
    return out


def reference_copy(course: Course, dest: Path) -> Path:
    """A submission folder holding a copy of every model solution."""
    dest.mkdir(parents=True, exist_ok=True)
    for module in course.modules:
        shutil.copy(course.reference_dir() / f"{module}.py", dest / f"{module}.py")
    return dest


def with_appended(course: Course, module: str, addition: Path, dest: Path) -> Path:
    """The model solutions with `addition` appended to one module (its definitions win).
    `__COURSE__` in the addition stands for the course's folder (what an attacker would find)."""
    folder = reference_copy(course, dest)
    append(course, folder / f"{module}.py", addition)
    return folder


def append(course: Course, target: Path, addition: Path) -> None:
    """`addition` appended to the module file `target` (see with_appended)."""
    text = addition.read_text().replace("__COURSE__", str(course.root))
    target.write_text(target.read_text() + f"\n\n# --- appended from {addition.name} ---\n" + text)


def scores(result: GradeResult) -> dict[str, tuple[str, float, float]]:
    return {e.id: (e.status, e.score, e.max_score) for e in result.exercises}


def grade_folder(course: Course, folder: Path, *names: str) -> GradeResult:
    return grade(course, folder, names)


def mistake_words() -> set[str]:
    """The known mistakes' own words, to search a student's copy for (they are instructor-only,
    like the model solutions): each file's docstring line, each misconception's name and
    teaching sentence."""
    out = {v.path.read_text().splitlines()[0].strip('"').strip() for v in variants()}
    out |= {words for v in variants() for words in (v.mistake, v.teaches) if words}
    # words the students are given anyway (a hint in course.toml, a stub's docstring) are no leak
    stubs = sorted((ROOT / "exercises").glob("*.py"))
    given = (ROOT / "course.toml").read_text() + "".join(p.read_text() for p in stubs)
    return {n for n in out if len(n) >= 24 and n not in given}


def variant(module: str, stem: str) -> Variant:
    """The known mistake mistakes/<module>/<stem>.py."""
    return next(v for v in variants(module) if v.path.stem == stem)


def assert_full_marks(course: Course, module: str, path: Path, topic: str, tmp_path: Path) -> None:
    """Right code written differently (the file at `path` appended to the model solutions)
    gets full marks on every exercise of `topic`."""
    result = grade_folder(course, with_appended(course, module, path, tmp_path), topic)
    failing = {
        e.id: [c.message for c in e.checks if not c.passed] for e in result.exercises if e.status != "passed"
    }
    assert result.internal_errors == () and failing == {}


def assert_loses_only_where_due(course: Course, variant: Variant, topic: str, tmp_path: Path) -> None:
    """A known-wrong file appended to the model solutions loses points on the exercises its
    `# loses:` line names, and nowhere else in `topic`, caught by the checks it names and
    with the feedback its header asks for (see Variant)."""
    folder = with_appended(course, variant.module, variant.path, tmp_path / "sub")
    assert_graded_as_due(course, variant, topic, grade_folder(course, folder, topic))


def assert_graded_as_due(course: Course, variant: Variant, topic: str, result: GradeResult) -> None:
    """assert_loses_only_where_due on a grading already made: `result` graded `topic` (and
    maybe other topics, whose exercises are not looked at) with `variant` in its module."""
    assert result.internal_errors == ()
    ids = {e.id for e in course.topic(topic).exercises}
    result = dataclasses.replace(result, exercises=tuple(e for e in result.exercises if e.id in ids))
    assert result.exercises, f"{topic} was not graded"
    for ex, (status, score, max_score) in scores(result).items():
        if ex in variant.loses:
            assert score < max_score, f"{ex} should lose points ({status})"
        else:
            assert (status, score) == ("passed", max_score), f"{ex} should be untouched"
    checks = {(e.id, c.name): c for e in result.exercises for c in e.checks}
    for key in (*variant.caught, *variant.passes, *variant.no_hint):
        assert key in checks, f"no check {key} in {topic}: {sorted(checks)}"
    assert [k for k in variant.caught if checks[k].passed] == [], "these checks should catch it"
    assert [k for k in variant.passes if not checks[k].passed] == [], "these checks should pass"
    assert [k for k in variant.no_hint if checks[k].passed or checks[k].hint] == [], "hint shown"
    for (ex, name), c in checks.items():
        if ex in variant.upstream and not c.passed:
            assert c.hint == "" and ("first" in c.message or "own" in c.message), (name, c.message)
    feedback = " ".join(
        f"{c.message} {c.hint}" for (ex, _), c in checks.items() if not c.passed and c.visibility == "public"
    )
    for words in variant.told:
        assert words in feedback, f"the student is not told {words!r}: {feedback}"
    named = {e.id: e.mistake["name"] for e in result.exercises if e.mistake}
    if variant.mistake:  # a misconception: the feedback of an exercise it loses names it
        assert variant.mistake in named.values(), f"no exercise names {variant.mistake!r}: {named}"
    others = {ex: name for ex, name in named.items() if name != variant.mistake}
    assert others == {}, f"named as another known mistake: {others}"
