"""The texts a student bundle carries: its README, requirements.txt and .gitignore."""

from __future__ import annotations

from dlgrade.manifest import Course

SETUP_HEADING = "## Set up (once)"
SETUP_COMMANDS = ("python3 -m venv .venv", ".venv/bin/pip install -r requirements.txt")
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
            rows.append(f"| {topic.id} | {file} | `{e.id}` | {e.points:g} | {summary} |")
    return rows


def _plots_note(course: Course) -> list[str]:
    """How to draw what a submission learned, when the course has exercises with plots."""
    from dlgrade.plots import PLOTS

    plotted = [e.id for t in course.topics for e in t.exercises if e.id in PLOTS]
    if not plotted:
        return []
    return [
        "`.venv/bin/grade NAMES --plots DIR` also draws what your code learned as PNGs in DIR",
        f"({', '.join(f'`{p}`' for p in plotted)}); it needs matplotlib: `.venv/bin/pip install matplotlib`.",
        "",
    ]


def readme(
    course: Course, *, hidden_count: int, hidden_points: float, requirements: list[str], python: str
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
        f"This installs {torch} and the grading engine shipped in `wheels/` into `.venv`",
        "(nothing outside this folder changes). On Windows the programs are in `.venv\\Scripts\\`.",
        "",
        "## Work",
        "",
        "```sh",
        ".venv/bin/grade                # grade every exercise",
        ".venv/bin/grade TOPIC          # one topic (several names allowed)",
        ".venv/bin/grade EXERCISE       # one exercise",
        ".venv/bin/grade list           # topics and exercises, in learning order",
        "```",
        "",
        "Each exercise is a function with a docstring and `raise NotImplementedError`; replace",
        "the `raise` with your code. An untouched exercise shows as `not started`.",
        "",
        *_plots_note(course),
        "## Public and hidden checks",
        "",
        "`grade` runs the public checks here, with their full feedback. The hidden checks",
        f"({hidden_count} of them, {hidden_points:g} of the {total:g} points) run only when",
        "your work is graded: `grade` lists each with its points as “run at grading time” and",
        "counts it as 0, so the total here is your public score out of the full maximum. An",
        "exercise shows `passed` when every public check passed. Passing every public check is",
        "not full marks: the hidden checks try other inputs.",
        "",
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
        "Hand in this folder (or what your instructor asks for); your instructor grades",
        "`exercises/` with every check.",
    ]
    return "\n".join(lines) + "\n"
