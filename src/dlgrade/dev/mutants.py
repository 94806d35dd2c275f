"""`grade dev mutants`: mutate the model solutions with cosmic-ray and grade each mutant.

cosmic-ray (a maintained mutation-testing library, docs/mutation.md) finds every place one of
its operators applies in `reference/<module>.py` and writes the mutated source; each mutant is
graded as a submission (the model solutions with that one module mutated) on the exercises of
its topic that can run the mutated line (dev.mutant_scope), in worker processes (`jobs`, both
cores by default), each keeping one course and one sandbox zygote for all its mutants. A
mutant is killed when it loses any point; one that keeps full marks survives, unless
`mutants.toml` beside course.toml lists it as equivalent (same behaviour, with a one-line
reason), in which case it is left out.
"""

from __future__ import annotations

import ast
import concurrent.futures
import difflib
import multiprocessing
import random
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core.manifest import Course, ManifestError, load_course
from dlgrade.core.result import GradeResult, Visibility
from dlgrade.dev.mutant_scope import recording_calls, scope

EQUIVALENTS_FILE = "mutants.toml"
_PUBLIC_FIRST: tuple[Visibility, ...] = ("public", "hidden")


class MutantsError(ManifestError):
    """The mutation run cannot start (no cosmic-ray, a bad mutants.toml); one line."""


@dataclass(frozen=True)
class Mutant:
    """One mutation of one model solution: where, which operator, and the changed line."""

    topic: str
    module: str
    operator: str
    occurrence: int
    line: int
    before: str
    after: str
    source: str

    @property
    def key(self) -> str:
        """Stable across edits elsewhere in the file: module, operator and the line's text."""
        return f"{self.module}: {self.operator}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    killed: bool
    detail: str  # the first check that caught it, or "full marks"


@dataclass(frozen=True)
class TopicScore:
    topic: str
    killed: int
    survived: tuple[Mutant, ...]
    equivalent: int

    @property
    def total(self) -> int:
        """Non-equivalent mutants graded."""
        return self.killed + len(self.survived)

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def _changed_line(old: str, new: str) -> tuple[int, str, str]:
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b).get_opcodes():
        if tag != "equal":
            return i1 + 1, " ".join(a[i1:i2]).strip(), " ".join(b[j1:j2]).strip()
    return 0, "", ""


def given_lines(reference: str, stub: str) -> set[int]:
    """Lines of the model solution's top-level functions and statements (constants, imports)
    that the stub holds word for word: code students are given, not code they write (a
    mutant there is graded on nothing: it stands for a student editing what was given)."""
    stub_tree = ast.parse(stub)
    theirs = {ast.get_source_segment(stub, node) for node in stub_tree.body}
    out: set[int] = set()
    for node in ast.parse(reference).body:
        if ast.get_source_segment(reference, node) in theirs:
            out.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return out


def mutants_of(course: Course, topic: str) -> list[Mutant]:
    """Every mutant cosmic-ray's core operators (those without parameters) make of the
    topic's model solution, in file order per operator, except in code the stub gives."""
    try:
        import cosmic_ray.plugins as plugins
        from cosmic_ray.ast import ast_nodes, get_ast
        from cosmic_ray.mutating import mutate_code
    except ImportError:
        raise MutantsError("grade dev mutants needs cosmic-ray: pip install 'dlgrade[dev]'") from None
    module = course.topic(topic).module
    source = (course.reference_dir() / f"{module}.py").read_text(encoding="utf-8")
    given = given_lines(source, (course.exercises_dir() / f"{module}.py").read_text(encoding="utf-8"))
    out = []
    nodes = list(ast_nodes(get_ast(source)))  # parsed once to count: about 200 operators look
    for name in plugins.operator_names():
        operator_class = plugins.get_operator(name)
        if operator_class.arguments():
            continue  # parameterised operators (VariableReplacer...) need a configuration
        operator = operator_class()
        count = sum(1 for node in nodes for _ in operator.mutation_positions(node))
        for occurrence in range(count):
            mutated = mutate_code(source, operator, occurrence)
            if mutated is None or mutated == source:
                continue
            line, before, after = _changed_line(source, mutated)
            if line in given:
                continue
            out.append(Mutant(topic, module, name, occurrence, line, before, after, mutated))
    return out


def load_equivalents(course: Course) -> dict[str, str]:
    """mutants.toml: `[[equivalent]]` tables with `mutant` (a Mutant.key) and `reason`."""
    path = course.root / EQUIVALENTS_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = {str(e["mutant"]): str(e["reason"]).strip() for e in data.get("equivalent", [])}
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MutantsError(f"{path}: not a valid equivalents file: {exc}") from None
    blank = [k for k, reason in entries.items() if not reason]
    if blank:
        raise MutantsError(f"{path}: equivalent mutant without a reason: {blank[0]}")
    return entries


_course_cache: dict[str, Course] = {}


def _course(root: str) -> Course:
    """One load of the course per worker process (its sandbox is shared too: course_sandbox)."""
    if root not in _course_cache:
        _course_cache[root] = load_course(Path(root))
    return _course_cache[root]


def _submission(course: Course, folder: Path, mutant: Mutant | None) -> None:
    for module in course.modules:
        text = (course.reference_dir() / f"{module}.py").read_text(encoding="utf-8")
        if mutant is not None and module == mutant.module:
            text = mutant.source
        (folder / f"{module}.py").write_text(text, encoding="utf-8")


def _observed(root: str, topic: str) -> dict[str, frozenset[str]]:
    """In a worker process: the model solutions graded on `topic`, noting which of the
    student's functions each exercise's checks call (mutant_scope)."""
    from dlgrade.engine.runner import grade

    course = _course(root)
    with tempfile.TemporaryDirectory(prefix="dlgrade-mutant-") as tmp, recording_calls() as seen:
        _submission(course, Path(tmp), None)
        result = grade(course, Path(tmp), [topic])
    if result.score < result.max_score or result.internal_errors:
        raise MutantsError(f"the model solutions lose points on {topic}: fix that before mutating")
    return {e: frozenset(fns) for e, fns in seen.items()}


def _lost(result: GradeResult) -> str | None:
    """The first check that lost a point (checks not run do not count), or None."""
    for e in result.exercises:
        for c in e.checks:
            if c.outcome != "not_run" and (not c.passed or c.score < c.max_score):
                return f"{e.id}: {c.name}"
    return "internal error" if result.internal_errors else None


def _grade_mutant(root: str, mutant: Mutant, exercises: Sequence[str] = ()) -> Verdict:
    """In a worker process: the model solutions with one module mutated, graded on
    `exercises` (default: its whole topic) one at a time, public checks before hidden ones,
    stopping at the first lost point: any lost point kills, so what is left cannot matter."""
    from dlgrade.engine.runner import grade

    course = _course(root)
    with tempfile.TemporaryDirectory(prefix="dlgrade-mutant-") as tmp:
        folder = Path(tmp)
        _submission(course, folder, mutant)
        for name in exercises or [mutant.topic]:
            for visibility in _PUBLIC_FIRST:
                caught = _lost(grade(course, folder, [name], visibility=visibility))
                if caught is not None:
                    return Verdict(mutant, True, caught)
    return Verdict(mutant, False, "full marks")


def graded_on(course: Course, mutant: Mutant, observed: dict[str, frozenset[str]]) -> list[str]:
    """The exercises of the mutant's topic that can tell it from the model solution."""
    mine = [e.id for e in course.select([mutant.topic]) if e.module == mutant.module]
    source = (course.reference_dir() / f"{mutant.module}.py").read_text(encoding="utf-8")
    return scope(source, mutant.line, mine, observed)


def sample(mutants: Sequence[Mutant], n: int | None, seed: int = 0) -> list[Mutant]:
    """`n` mutants drawn with `seed` (in file order), or all of them."""
    if n is None or n >= len(mutants):
        return list(mutants)
    chosen = sorted(random.Random(seed).sample(range(len(mutants)), n))
    return [mutants[i] for i in chosen]


def run(
    course: Course,
    topics: Sequence[str],
    *,
    jobs: int = 2,
    per_topic: int | None = None,
    seed: int = 0,
    progress: Callable[[Verdict], None] | None = None,
) -> list[TopicScore]:
    """Grade every (or `per_topic` sampled) mutant of each topic, `jobs` at a time."""
    equivalents = load_equivalents(course)
    chosen = [m for t in topics for m in sample(mutants_of(course, t), per_topic, seed)]
    graded = [m for m in chosen if m.key not in equivalents]
    verdicts: dict[Mutant, Verdict] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch's threads
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        root, wanted = str(course.root), sorted({m.topic for m in graded}, key=list(topics).index)
        observed: dict[str, frozenset[str]] = {}
        for calls in pool.map(_observed, [root] * len(wanted), wanted):
            observed.update(calls)
        futures = [pool.submit(_grade_mutant, root, m, graded_on(course, m, observed)) for m in graded]
        for future in concurrent.futures.as_completed(futures):
            verdict = future.result()
            verdicts[verdict.mutant] = verdict
            if progress is not None:
                progress(verdict)
    out = []
    for t in topics:
        mine = [verdicts[m] for m in graded if m.topic == t]
        out.append(
            TopicScore(
                t,
                killed=sum(v.killed for v in mine),
                survived=tuple(v.mutant for v in mine if not v.killed),
                equivalent=sum(1 for m in chosen if m.topic == t and m.key in equivalents),
            )
        )
    return out
