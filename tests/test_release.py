"""`grade release`: the student bundle holds no answer and no hidden check, and grades like the course.

The bundle is built once for this module; tests/test_release_venv.py installs one in a
fresh virtual environment the way its README says.
"""

from __future__ import annotations

import ast
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.codec import Opaque
from dlgrade.core.manifest import Course, load_course
from dlgrade.core.result import GradeResult, points_text, score_text
from dlgrade.engine.answers import AnswerBook, RecordingOracle
from dlgrade.engine.bundle import DEFERRED_MESSAGE, load_bundle
from dlgrade.engine.references import ModuleLoader
from dlgrade.engine.runner import grade, run_checks
from dlgrade.engine.session import open_session
from dlgrade.report.table import render_table
from tests.global_rng import draws_from_global_rng, file_draws_from_global_rng
from tests.gradings import share_gradings, shared_grade
from tests.rounds import ROUNDS, graded_round, round_draws_from_global_rng, round_folder, round_topics
from tests.shared import Shared
from tests.support import ROOT, mistake_words, reference_copy, variants

# The known-wrong files in rounds of one per module (tests/rounds.py), each round's topics: the
# slow tier (test_fixtures.py proves every file's verdicts in the fast tier; this, the bundle's).
IMPLEMENTATIONS = [
    "reference",
    "stubs",
    *(pytest.param(f"wrong-round-{i + 1}", marks=pytest.mark.slow) for i in range(len(ROUNDS))),
]


@pytest.fixture(scope="module")
def bundle(course: Course, shared: Shared) -> Path:
    return shared.bundle(course)  # built once a session; tests that change it change a copy


@pytest.fixture(scope="module")
def bundle_reference(
    bundle: Path, course: Course, shared: Shared, tmp_path_factory: pytest.TempPathFactory
) -> GradeResult:
    """The model solutions graded in the bundle (the student's view), once a session: the
    student's `grade` and `grade package` in a reference-filled repository below read it back
    (tests/gradings.py)."""
    folder = reference_copy(course, tmp_path_factory.mktemp("bundle-reference") / "exercises")
    return shared_grade(shared, load_course(bundle), folder)


def checks_by_key(result: GradeResult, visibility: str) -> dict[tuple[str, str], object]:
    return {(e.id, c.name): c for e in result.exercises for c in e.checks if c.visibility == visibility}


# --- what is in the bundle ---------------------------------------------------------------


def test_bundle_layout(bundle: Path, course: Course) -> None:
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    wheel = next(f for f in files if f.startswith("wheels/"))
    assert files == {
        "README.md",
        "requirements.txt",
        ".gitignore",
        ".github/workflows/grade.yml",
        "course.toml",
        "release.json",
        "graders/conftest.py",
        "graders/answers.json",
        wheel,
        *(f"exercises/{m}.py" for m in course.modules),
        *(f"stubs/{m}.py" for m in course.modules),  # what `grade reset` restores
        *(f"graders/test_{t.id}.py" for t in course.topics),
    }
    assert wheel.endswith("-py3-none-any.whl")
    assert not (bundle / "reference").exists()
    for m in course.modules:
        assert (bundle / "exercises" / f"{m}.py").read_text() == (
            course.exercises_dir() / f"{m}.py"
        ).read_text()
    assert f"./{wheel}" in (bundle / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in (bundle / "requirements.txt").read_text().splitlines()


def test_the_readme_installs_torch_from_the_cpu_index(bundle: Path) -> None:
    """A student on Linux following the README gets torch's CPU build, not the CUDA one."""
    from tests.test_release_venv import readme_setup_commands

    install = readme_setup_commands((bundle / "README.md").read_text())[1]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in install
    assert install.endswith("-r requirements.txt"), install


def every_text(bundle: Path) -> dict[str, str]:
    """Every file of the bundle as text, and every member of every archive in it."""
    out = {}
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        raw, name = path.read_bytes(), path.relative_to(bundle).as_posix()
        if zipfile.is_zipfile(io.BytesIO(raw)):
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                for member in zf.namelist():
                    out[f"{name}!{member}"] = zf.read(member).decode("utf-8", "replace")
        out[name] = raw.decode("utf-8", "replace")
    return out


def reference_needles(course: Course) -> set[str]:
    """Lines of the model solutions that the stubs do not share (the answer key's own text)."""
    # A signature wrapped differently in the two files is still the stub's text, not the answer's.
    stubs = " ".join(
        " ".join((course.exercises_dir() / f"{m}.py").read_text().split()) for m in course.modules
    )
    return {
        line.strip()
        for m in course.modules
        for line in (course.reference_dir() / f"{m}.py").read_text().splitlines()
        if len(line.strip()) >= 16 and " ".join(line.split()) not in stubs and line.strip() not in SHARED
    }


# Lines a public grader or the engine must write too, because the check computes the same thing
# on the student's own code: init's exact re-run of the experiment its docstring spells out step by
# step (the draw order is the contract's), the one BCE step relu_nets' budget check takes, and the
# graph evaluator of kit/graphs. Each is one generic line, not an answer by itself.
SHARED = {"return torch.stack(out)", "grad = torch.cat(", "vals: list[float] = []"}


def hidden_needles(course: Course) -> set[str]:
    """Names and own lines of every hidden check, and of helpers only hidden checks use."""
    needles: set[str] = set()
    for topic in course.topics:
        source = course.grader_path(topic.id).read_text()
        body = ast.parse(source).body
        hidden = [n for n in body if isinstance(n, ast.FunctionDef) and "hidden=True" in source_of(source, n)]
        public = [n for n in body if n not in hidden]
        public_lines = {line.strip() for n in public for line in source_of(source, n).splitlines()}
        public_names = {x.id for n in public for x in ast.walk(n) if isinstance(x, ast.Name)}
        hidden_names = {x.id for n in hidden for x in ast.walk(n) if isinstance(x, ast.Name)}
        helpers = [
            n for n in public if isinstance(n, ast.FunctionDef) and n.name in hidden_names - public_names
        ]
        for n in hidden + helpers:
            needles.add(n.name)
            needles |= {
                line.strip()
                for line in source_of(source, n).splitlines()[1:]
                if len(line.strip()) >= 16 and line.strip() not in public_lines
            }
    return needles


def source_of(source: str, node: ast.stmt) -> str:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(source.splitlines()[start - 1 : node.end_lineno])


def leaks(bundle: Path, course: Course) -> list[str]:
    """Every trace of the answer key, a hidden check or a known mistake in the bundle's files
    (archives opened)."""
    texts = every_text(bundle)
    ref, hidden, mistakes = reference_needles(course), hidden_needles(course), mistake_words()
    assert len(ref) >= 5 and len(hidden) >= 10 and len(mistakes) >= 100  # enough to mean something
    needles = ref | hidden | mistakes
    found = [f"{name}: {needle}" for name, text in texts.items() for needle in needles if needle in text]
    found += [name for name in texts if name.endswith((".pyc", ".pyo", ".pkl", ".pickle", ".pt", ".pth"))]
    found += [name for name in texts if "__pycache__" in name or "reference/" in name or "mistakes/" in name]
    found += [name for name, t in texts.items() if t[:1] == "\x80" and t[1:2] in "\x02\x03\x04\x05"]
    return found


def test_no_model_solution_and_no_hidden_check_anywhere(bundle: Path, course: Course) -> None:
    assert leaks(bundle, course) == []


def test_the_search_finds_a_planted_leak(bundle: Path, course: Course, tmp_path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    wheel = next((copy / "wheels").glob("*.whl"))
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("dlgrade/extra.py", (course.reference_dir() / "stability.py").read_text())
    found = leaks(copy, course)
    assert any("!dlgrade/extra.py: return e / torch.sum(" in f for f in found)
    assert all(f.startswith(f"wheels/{wheel.name}") for f in found)
    grader = copy / "graders" / "test_stability.py"
    grader.write_text(
        grader.read_text() + course.grader_path("stability").read_text().split("# --- log_softmax")[1]
    )
    assert any("test_log_softmax_hidden_extreme" in f for f in leaks(copy, course))
    named = next(v for v in variants() if v.mistake)
    (copy / "exercises" / "notes.txt").write_text(named.path.read_text())
    assert any(f.startswith("exercises/notes.txt: ") and named.mistake in f for f in leaks(copy, course))


def test_answers_are_plain_data_and_answer_only_public_questions(bundle: Path, course: Course) -> None:
    book = AnswerBook.load(bundle / "graders" / "answers.json")
    for key in book.answers:
        stack = [book.get(key)]
        while stack:
            value = stack.pop()
            assert not isinstance(value, Opaque)
            stack += (
                list(value.values())
                if isinstance(value, dict)
                else list(value)
                if isinstance(value, tuple | list)
                else []
            )
    asked = questions_per_check(course)
    public = set().union(*(keys for (hidden, keys) in asked.values() if not hidden))
    hidden_only = set().union(*(keys for (hidden, keys) in asked.values() if hidden)) - public
    assert hidden_only, "the hidden checks ask nothing of their own: this test would prove nothing"
    assert set(book.answers) == public
    assert hidden_only.isdisjoint(book.answers)


def questions_per_check(course: Course) -> dict[str, tuple[bool, set[str]]]:
    """Every instructor check -> (hidden?, the keys of the questions it asks the reference)."""
    books: list[AnswerBook] = []
    loader = ModuleLoader(course.reference_dir(), prefix="dlgrade_test_questions")

    def oracle(module: str) -> RecordingOracle:
        books.append(AnswerBook())
        return RecordingOracle(loader.module(module), module, books[-1])

    session = open_session(course, course.reference_dir(), oracle=oracle, brief_reports=False, salted=False)
    session.sandbox.start()
    try:
        run_checks(session)
    finally:
        session.close()
    records = [r for r in session.records.values() if r.nodeid]  # not the engine's inputs checks
    assert [r.outcome for r in records] == ["passed"] * len(records) and len(books) == len(records)
    return {
        f"{r.exercise}::{r.name}": (r.hidden, set(b.answers)) for r, b in zip(records, books, strict=True)
    }


def test_release_json_lists_each_hidden_check_with_its_points(
    bundle: Path, course: Course, shared: Shared, bundle_reference: GradeResult
) -> None:
    info = load_bundle(bundle)
    assert info is not None
    instructor = shared.reference(course)
    hidden = checks_by_key(instructor, "hidden")
    assert {(h.exercise, h.name) for h in info.hidden} == set(hidden)
    listed = checks_by_key(bundle_reference, "hidden")
    assert {k: c.max_score for k, c in listed.items()} == {k: c.max_score for k, c in hidden.items()}


# --- grading in the bundle -----------------------------------------------------------------


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_public_verdicts_equal_the_instructors(
    bundle: Path, course: Course, name: str, shared: Shared, bundle_reference: GradeResult, tmp_path
) -> None:
    """The model solutions, the stubs and every known-wrong file (in rounds, each round's
    topics) get the same public verdicts in the bundle as from the instructor."""
    if name == "reference":  # both gradings made once a session, shared with other tests
        instructor, student = shared.reference(course), bundle_reference
    elif name == "stubs":  # once a session: `grade verify` and `grade package` below read them
        instructor = shared_grade(shared, course, course.exercises_dir())
        student = shared_grade(shared, load_course(bundle), course.exercises_dir())
    else:
        index = int(name.rsplit("-", 1)[1]) - 1
        folder = round_folder(course, index, tmp_path / "sub")
        if round_draws_from_global_rng(index):  # both in this process: a file that draws from
            # the global RNG (init/global_rng) shows numbers that depend on the grading
            # process's history, not on the bundle
            instructor = grade(course, folder, round_topics(course, index))
        else:  # the instructor's grading of the round made once a session (tests/test_fixtures.py)
            instructor = graded_round(shared, course, index)
        student = grade(load_course(bundle), folder, round_topics(course, index))
    assert [e.id for e in student.exercises] == [e.id for e in instructor.exercises]
    assert instructor.internal_errors == () and student.internal_errors == ()
    verdict = {
        k: (c.passed, c.message, c.hint, c.score, c.max_score)
        for k, c in checks_by_key(instructor, "public").items()
    }
    assert {
        k: (c.passed, c.message, c.hint, c.score, c.max_score)
        for k, c in checks_by_key(student, "public").items()
    } == verdict
    for k, c in checks_by_key(student, "hidden").items():
        assert (c.outcome, c.passed, c.score, c.message) == ("deferred", False, 0.0, DEFERRED_MESSAGE), k
    # the bundle holds no known mistakes: the instructor's feedback names them, the student's says nothing
    assert [e.id for e in student.exercises if e.mistake] == []
    if name.startswith("wrong-round-") and any(v.mistake for v in ROUNDS[int(name.rsplit("-", 1)[1]) - 1]):
        assert [e.id for e in instructor.exercises if e.mistake] != []
    by_id = {e.id: e for e in instructor.exercises}
    for e in student.exercises:
        public = [c for c in e.checks if c.visibility == "public"]
        # the exercise's score is its checks' exact shares summed, rounded once to two decimals;
        # each share shows 4 decimals (docs/grading.md): they differ by at most that rounding
        assert abs(e.score - sum(c.score for c in public)) <= 0.005 + 0.00005 * len(public)
        if by_id[e.id].status in ("not_started", "error"):
            assert e.status == by_id[e.id].status
        else:
            assert (e.status == "passed") == all(c.passed for c in public)
    if name == "reference":  # the reference-filled bundle passes every public check
        assert all(e.status == "passed" for e in student.exercises)
        assert student.score == pytest.approx(student.public_max_score)
        assert student.score < student.max_score == instructor.max_score == instructor.score


def test_the_rounds_that_draw_from_the_global_rng_are_graded_in_one_process() -> None:
    """The rounds above share the instructor's grading across processes except where a file
    draws from the global RNG: the reading of the source finds the known ones."""
    flagged = {v.path.stem for r in ROUNDS for v in r if file_draws_from_global_rng(v.path)}
    assert {"global_rng", "gradient_upstream_global_rng"} <= flagged
    assert draws_from_global_rng("w = torch.randn(3, 4) * 0.1")
    assert draws_from_global_rng("torch.manual_seed(0)")
    assert not draws_from_global_rng("w = torch.randn(3, 4, generator=g) * 0.1")
    assert not draws_from_global_rng("g = torch.Generator().manual_seed(0)")


def test_results_show_public_and_deferred_points_only_in_a_bundle(
    course: Course, shared: Shared, bundle_reference: GradeResult
) -> None:
    in_bundle = bundle_reference
    in_course = shared.reference(course)
    table = render_table(in_bundle)
    assert f"Public checks {score_text(in_bundle.score, in_bundle.public_max_score)}; " in table
    for e in in_bundle.exercises:
        for c in e.hidden_checks:
            assert f"“{c.name}” ({points_text(c.max_score)} pts)" in table
    assert "run at grading time" not in render_table(in_course)
    assert "Public checks" not in render_table(in_course)
    student, instructor = in_bundle.to_dict(), in_course.to_dict()
    assert "deferred" not in instructor and "public" not in instructor
    assert student["deferred"]["count"] == instructor["hidden"]["count"] == student["hidden"]["count"]
    assert student["deferred"]["points"] == pytest.approx(instructor["hidden"]["points"])
    assert student["public"]["score"] == student["score"] == pytest.approx(student["public"]["max_score"])
    assert student["max_score"] == instructor["max_score"]
    assert student["hidden"]["failed"] == 0


def test_the_instructor_grades_the_students_repo_with_every_check(
    bundle: Path, course: Course, shared: Shared, tmp_path, monkeypatch
) -> None:
    share_gradings(shared, monkeypatch)  # the model solutions' gradings, made once a session
    repo = tmp_path / "student-repo"
    shutil.copytree(bundle, repo)
    reference_copy(course, repo / "exercises")  # the student solved everything
    monkeypatch.chdir(repo)
    here = CliRunner().invoke(main, ["--format", "json"])
    assert here.exit_code == 0, here.output
    mine = json.loads(here.output)
    assert mine["score"] == mine["public"]["max_score"] < mine["max_score"]
    monkeypatch.chdir(ROOT)
    graded = CliRunner().invoke(main, ["--submission", str(repo), "--format", "json"])
    assert graded.exit_code == 0, graded.output
    full = json.loads(graded.output)
    assert full["score"] == full["max_score"] == sum(t.points for t in course.topics)
    assert full["hidden"]["count"] > 0 and full["hidden"]["failed"] == 0 and "deferred" not in full


@pytest.mark.slow  # two packages made and verified: four gradings
def test_a_package_made_in_the_bundle_verifies_and_grades_in_full(
    bundle: Path, course: Course, shared: Shared, tmp_path, monkeypatch
) -> None:
    """`grade package` in a bundle claims the public part only; verify compares that part."""
    share_gradings(shared, monkeypatch)  # the same four gradings as the tests above: once a session
    repo = tmp_path / "student-repo"
    shutil.copytree(bundle, repo)
    reference_copy(course, repo / "exercises")
    monkeypatch.chdir(repo)
    made = CliRunner().invoke(main, ["package", "--output", str(tmp_path / "mine.zip")])
    assert made.exit_code == 0, made.output
    monkeypatch.chdir(ROOT)
    checked = CliRunner().invoke(main, ["verify", str(tmp_path / "mine.zip"), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    regrade = json.loads(checked.stdout)
    assert regrade["score"] == regrade["max_score"] == sum(t.points for t in course.topics)
    # Untouched stubs: the claim (0) and the regrade (0) agree too.
    stubs = tmp_path / "stub-repo"
    shutil.copytree(bundle, stubs)
    monkeypatch.chdir(stubs)
    made = CliRunner().invoke(main, ["package", "--output", str(tmp_path / "stub.zip")])
    assert made.exit_code == 0, made.output
    monkeypatch.chdir(ROOT)
    checked = CliRunner().invoke(main, ["verify", str(tmp_path / "stub.zip"), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["score"] == 0


def test_a_question_the_release_never_recorded_is_a_grader_error(
    bundle: Path, course: Course, tmp_path, monkeypatch
) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    grader = copy / "graders" / "test_stability.py"
    text = grader.read_text()
    assert 'random_cases("softmax", 14' in text
    grader.write_text(text.replace('random_cases("softmax", 14', 'random_cases("softmax", 15'))
    reference_copy(course, copy / "exercises")
    monkeypatch.chdir(copy)
    result = CliRunner().invoke(main, ["stable_softmax", "--format", "json"])
    assert result.exit_code == 3
    assert "no answer to stable_softmax(" in result.stderr
    check = next(
        c for c in json.loads(result.stdout)["exercises"][0]["checks"] if c["name"].startswith("agrees with")
    )
    assert (check["passed"], check["outcome"]) == (False, "internal")


def test_plots_in_a_bundle_are_the_instructors_from_the_recorded_answers(
    bundle: Path, course: Course, tmp_path
) -> None:
    pytest.importorskip("matplotlib")
    from dlgrade.plots.draw import write_plots

    folder = reference_copy(course, tmp_path / "sub")
    names = ("xor_features", "fit_irony_of_spec")  # the second asks the answer key for its data
    here, there = tmp_path / "course", tmp_path / "bundle"
    assert write_plots(course, str(folder), names, here) == [f"wrote {here / f'{n}.png'}" for n in names]
    assert write_plots(load_course(bundle), str(folder), names, there) == [
        f"wrote {there / f'{n}.png'}" for n in names
    ]
    for n in names:
        assert (there / f"{n}.png").read_bytes() == (here / f"{n}.png").read_bytes(), n
    assert "--plots DIR" in (bundle / "README.md").read_text()


def test_in_a_bundle_dev_check_and_the_reference_are_not_offered(bundle: Path, monkeypatch) -> None:
    monkeypatch.chdir(bundle)
    for args, words in (
        (["dev", "check"], "student bundle"),
        (["--submission", "reference"], "no model solutions"),
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and words in result.output, result.output


# --- the command ----------------------------------------------------------------------------


@pytest.mark.slow  # two whole releases
def test_release_refuses_a_non_empty_folder_and_force_replaces_it(tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    monkeypatch.chdir(ROOT)
    refused = CliRunner().invoke(main, ["release", str(out)])
    assert refused.exit_code == 2
    assert "is not empty; pass --force" in refused.output and refused.output.count("Error") == 1
    assert (out / "keep.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    assert CliRunner().invoke(main, ["release", str(tmp_path / "file")]).exit_code == 2
    replaced = CliRunner().invoke(main, ["release", str(out), "--force"])
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.strip() == str(out.resolve())
    assert not (out / "keep.txt").exists() and (out / "release.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out"]  # no staging folder left


def test_a_failed_release_writes_nothing(tmp_path, monkeypatch) -> None:
    course_copy = tmp_path / "course"
    course_copy.mkdir()
    for name in ("course.toml", "exercises", "reference", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course_copy / name)
    model = course_copy / "reference" / "stability.py"
    good = model.read_text()
    monkeypatch.chdir(course_copy)
    for broken, words in (
        (good.replace("dim: int = -1) -> torch.Tensor:", "dim: int = 0) -> torch.Tensor:", 1), "dev check"),
        (
            good.replace("return e / torch.sum(", "return 1.01 * e / torch.sum("),
            "does not pass the model solutions",
        ),
    ):
        assert broken != good
        model.write_text(broken)
        result = CliRunner().invoke(main, ["release", str(tmp_path / "out")])
        assert result.exit_code == 1
        assert words in result.output and result.output.count("\n") == 1, result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == ["course"]


def test_the_readme_says_how_to_hand_in_with_posix_paths_and_wsl(bundle: Path) -> None:
    from tests.test_templates import command_path, doc_invocations

    readme = (bundle / "README.md").read_text()
    assert "## Hand in" in readme and ".venv/bin/grade package" in readme and "WSL" in readme
    assert "\\" not in readme  # no Windows paths
    paths = [command_path(args) for args in doc_invocations(bundle / "README.md")]
    for command in (["check"], ["list"], ["watch"], ["hint"], ["reset"], ["package"]):
        assert command in paths, command


def test_the_bundle_workflow_installs_the_engine_from_wheels(bundle: Path) -> None:
    import yaml

    from tests.test_templates import command_path, workflow_invocations

    workflow = bundle / ".github" / "workflows" / "grade.yml"
    steps = yaml.safe_load(workflow.read_text())["jobs"]["grade"]["steps"]
    installs = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert len(installs) == 1 and installs[0].endswith("-r requirements.txt")
    lines = (bundle / "requirements.txt").read_text().splitlines()
    wheels = [line for line in lines if line.startswith("./wheels/")]
    assert len(wheels) == 1 and (bundle / wheels[0]).is_file()
    assert [command_path(args) for args in workflow_invocations(workflow)] == [["check"]]
