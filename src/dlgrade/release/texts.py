"""The texts a student bundle carries: its README, requirements.txt and .gitignore."""

from __future__ import annotations

from dlgrade.core.manifest import Course
from dlgrade.core.result import points_text

SETUP_HEADING = "## Set up (once)"
# torch's CPU build: without this index, pip on Linux picks the multi-GB CUDA build. Every install a
# student or a grading machine runs names it (this README, the workflows, the Gradescope setup).
TORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
SETUP_COMMANDS = ("python3 -m venv .venv", f".venv/bin/pip install {TORCH_CPU_INDEX} -r requirements.txt")
WORKFLOW = ".github/workflows/grade.yml"
GITIGNORE = ".venv/\n__pycache__/\n*.pyc\n.pytest_cache/\n.dlgrade/\n"


def requirements_txt(requirements: list[str], wheel_name: str) -> str:
    lines = [
        "# Installs the grading engine that came with this course (wheels/) and what it needs.",
        "# torch is pinned: every student grades on the same version as the instructor.",
        *requirements,
        f"./wheels/{wheel_name}",
    ]
    return "\n".join(lines) + "\n"


def _exercise_table(course: Course) -> list[str]:
    rows = ["| topic | file | exercise | points | what |", "|---|---|---|---|---|"]
    for topic in course.topics:
        for e in topic.exercises:
            file, summary = f"`exercises/{topic.module}.py`", e.summary.replace("|", "\\|")
            rows.append(f"| {topic.id} | {file} | `{e.id}` | {points_text(e.points)} | {summary} |")
    return rows


def _plots_note(course: Course) -> list[str]:
    """How to draw what a submission learned, when the course has exercises with plots."""
    from dlgrade.plots.draw import PLOTS

    plotted = [e.id for t in course.topics for e in t.exercises if e.id in PLOTS]
    if not plotted:
        return []
    return [
        "`.venv/bin/grade NAMES --plots DIR` also draws what your code learned as PNGs in DIR",
        f"({', '.join(f'`{p}`' for p in plotted)}); it needs matplotlib: `.venv/bin/pip install matplotlib`.",
        "",
    ]


REVEALED = [
    "## Every check, the hidden ones included",
    "",
    "The due date has passed: this bundle holds every check of the course, the ones that were",
    "hidden as public ones, with their full feedback (`grade release --reveal`). Their inputs",
    "are drawn without the course's secret, so they are not the exact inputs your work was",
    "graded with; the properties they test are the same.",
    "",
]


def _hidden_section(hidden_count: int, hidden_points: float, total: float) -> list[str]:
    return [
        "## Public and hidden checks",
        "",
        "`grade` runs the public checks here, with their full feedback. The hidden checks",
        f"({hidden_count} of them, {points_text(hidden_points)} of the {points_text(total)} points) "
        "run only when",
        "your work is graded: `grade` lists each with its points as “run at grading time” and",
        "counts it as 0, so the total here is your public score out of the full maximum. An",
        "exercise shows `passed` when every public check passed. Passing every public check is",
        "not full marks: the hidden checks try other inputs.",
        "",
    ]


def readme(
    course: Course,
    *,
    hidden_count: int,
    hidden_points: float,
    requirements: list[str],
    python: str,
    revealed: bool = False,
) -> str:
    """The student README; `requirements` and `python` are the engine's (from its metadata)."""
    total = sum(t.points for t in course.topics)
    setup = "\n".join(SETUP_COMMANDS)
    torch = next((r for r in requirements if r.startswith("torch")), "torch")
    lines = [
        f"# {course.title}",
        "",
        "Your copy of the course. Fill in the functions in `exercises/`, run `grade`, and read",
        "what it says: every public check tells you the case it tried, what it expected, what",
        "it got, and a hint.",
        "",
        SETUP_HEADING,
        "",
        f"Python {python} (`python3 --version` says which you have). In this folder:",
        "",
        "```sh",
        setup,
        "```",
        "",
        f"This installs {torch} (its CPU build, from PyTorch's CPU index: no GPU needed) and the",
        "grading engine shipped in `wheels/` into `.venv`",
        "(nothing outside this folder changes). Paths here are POSIX paths (`.venv/bin/grade`): on",
        "Linux and macOS use them as written; on Windows, work inside WSL (the Windows Subsystem",
        "for Linux), where they are the same.",
        "",
        "## Work",
        "",
        "```sh",
        ".venv/bin/grade                # grade every exercise",
        ".venv/bin/grade TOPIC          # one topic (several names allowed)",
        ".venv/bin/grade EXERCISE       # one exercise",
        ".venv/bin/grade list           # every exercise, your last status and points, what next",
        ".venv/bin/grade watch          # regrade on every save (keys: n next, h hint, l list, q quit)",
        ".venv/bin/grade hint EXERCISE  # the next hint: a nudge, then the method, then close to it",
        ".venv/bin/grade reset EXERCISE # put the stub back (your version goes to .dlgrade/backup/)",
        "```",
        "",
        "Each exercise is a function with a docstring and `raise NotImplementedError`; replace",
        "the `raise` with your code. An untouched exercise shows as `not started`. A mistyped",
        "name gets a suggestion. `.dlgrade/` keeps your hints and last results; it is not graded.",
        "",
        "In Jupyter (`.venv/bin/pip install notebook`, then start it from this folder), run",
        "`%load_ext dlgrade` once, then `%grade stable_softmax` (or a topic, or nothing for every",
        "exercise your notebook defines): it grades the functions your notebook defined, with the",
        "same checks and points as `grade`.",
        "",
        *_plots_note(course),
        *(REVEALED if revealed else _hidden_section(hidden_count, hidden_points, total)),
        "## Exercises",
        "",
        *_exercise_table(course),
        "",
        "## What is in this folder",
        "",
        "- `exercises/`: your work, the only folder that is graded.",
        "- `graders/`: the public checks (pytest files) and `answers.json`, the model solutions'",
        "  answers to the public checks' inputs, recorded when this bundle was made.",
        "- `course.toml`: every exercise, its points, hint and rules (forbidden calls).",
        "- `release.json`: the hidden checks' names and points.",
        "- `wheels/`, `requirements.txt`: the grading engine and what it needs.",
        "",
        "- `stubs/`: the untouched exercises, which `grade reset` restores from.",
        "- `.github/workflows/grade.yml`: grades every push when this folder is a GitHub",
        "  repository, installing the engine from `wheels/` as above.",
        "",
        "## Hand in",
        "",
        "```sh",
        ".venv/bin/grade package        # writes submission.zip: your exercises/ and their result",
        "```",
        "",
        "Hand in `submission.zip` (unless your instructor asks for something else): it holds",
        "`exercises/`, the result `grade` gave and a checksum of every file. Your instructor",
        "grades `exercises/` again with every check, hidden ones included.",
    ]
    return "\n".join(lines) + "\n"


def ci_workflow() -> str:
    """The bundle's GitHub Actions workflow: install from requirements.txt (the engine in wheels/)."""
    return """# Grade every push: the table in the log, the result JSON as an artifact.
name: grade

on:
  push:
  workflow_dispatch:

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"

      - name: Install the grading engine from wheels/ (CPU build of torch)
        run: python -m pip install {TORCH_CPU_INDEX} -r requirements.txt

      - name: Grade
        run: grade --format json --output grade-result.json

      - uses: actions/upload-artifact@v4
        if: ${{ !cancelled() && hashFiles('grade-result.json') != '' }}
        with:
          name: grade
          path: grade-result.json
""".replace("{TORCH_CPU_INDEX}", TORCH_CPU_INDEX)
