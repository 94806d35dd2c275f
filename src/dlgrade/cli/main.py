"""The `grade` command: thin click commands over the library.

Exit status: 0 when grading completed (whatever the score), 1 below --fail-under,
2 for usage errors (bad arguments, no course, no such submission), 3 when the engine
itself failed (a grader crashed, the sandbox did not start).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from dlgrade import __version__
from dlgrade.cli import batch as cli_batch
from dlgrade.cli import student as cli_student
from dlgrade.cli import submissions as cli_submissions
from dlgrade.cli.options import (
    containment_option,
    device_option,
    fail_under_option,
    format_option,
    output_option,
    submission_option,
)
from dlgrade.core.manifest import Course, ManifestError, find_course_root, load_course
from dlgrade.intake.submission import SubmissionError
from dlgrade.nbgrader.course import DEFAULT_CELL_TIMEOUT

EXIT_FAIL_UNDER = 1
EXIT_ENGINE = 3


class EngineFailure(click.ClickException):
    exit_code = EXIT_ENGINE


class DefaultGroup(click.Group):
    """`grade NAMES...` means `grade check NAMES...`: grading is the default command.

    Shell completion parses the words before the one being completed (resiliently): with none,
    the group itself completes, so `grade <TAB>` offers the subcommands.
    """

    default_command = "check"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.resilient_parsing and not args:
            return super().parse_args(ctx, args)
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help", "--version")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the library's exceptions into one-line click errors with the right exit code."""
    from dlgrade.sandbox.pool import SandboxError

    try:
        yield
    except (ManifestError, SubmissionError) as exc:
        raise click.UsageError(str(exc)) from None
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    except SandboxError as exc:
        raise EngineFailure(str(exc)) from None
    except Exception as exc:
        from dlgrade.engine.runner import EngineError

        if isinstance(exc, EngineError):
            raise EngineFailure(str(exc)) from None
        raise


def here_course() -> Course:
    return load_course(find_course_root(Path.cwd()))


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade the exercises of a dlgrade course.

    `grade` grades every exercise; `grade TOPIC` or `grade EXERCISE` (several allowed)
    grades some. Run it anywhere inside a course.
    """


@main.command("check")
@click.argument("names", nargs=-1)
@submission_option
@format_option
@output_option
@fail_under_option
@device_option
@containment_option("warn")
@click.option(
    "--plots",
    "plots",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also draw what the submission learned (decision boundaries, fitted curves) as PNGs in DIR.",
)
def check_command(
    names: tuple[str, ...],
    submission: str | None,
    fmt: str,
    output: Path | None,
    fail_under: float | None,
    device: str,
    plots: Path | None,
) -> None:
    """Grade exercises (the default: `grade [NAMES]...` runs this)."""
    from dlgrade.engine.api import grade_submission

    with domain_errors():
        result = grade_submission(here_course(), submission, names, device=device)
        emit(result, fmt, output)
        if plots is not None:
            draw_plots(here_course(), submission, names, plots)
    for line in result.internal_errors:
        click.echo(f"grader error: {line}", err=True)
    if result.internal_errors:
        sys.exit(EXIT_ENGINE)
    if fail_under is not None and result.percent < fail_under:
        click.echo(f"total {result.percent:.1f}% is under --fail-under {fail_under:g}%", err=True)
        sys.exit(EXIT_FAIL_UNDER)


def draw_plots(course: Course, submission: str | None, names: tuple[str, ...], folder: Path) -> None:
    from dlgrade.plots.draw import PlotError, write_plots  # matplotlib only when asked for

    try:
        lines = write_plots(course, submission, names, folder)
    except PlotError as exc:
        raise click.UsageError(str(exc)) from None
    for line in lines:
        click.echo(line, err=True)


def emit(result: object, fmt: str, output: Path | None) -> None:
    """Machine formats go to --output (or alone on stdout); people get the table on stdout."""
    from dlgrade.core.atomic import write_atomic
    from dlgrade.core.result import GradeResult
    from dlgrade.report import FORMATS
    from dlgrade.report.table import render_table

    assert isinstance(result, GradeResult)
    if output is not None:
        write_atomic(output, FORMATS[fmt](result))
        click.echo(f"wrote {output}", err=True)
    if output is None and fmt != "table":
        click.echo(FORMATS[fmt](result), nl=False)
    else:
        click.echo(render_table(result, color=sys.stdout.isatty()), nl=False)


@main.command("release")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT_DIR even if it is not empty.")
def release_command(out_dir: Path, force: bool) -> None:
    """Write the student bundle to OUT_DIR: stubs, public checks, the engine; no answers."""
    from dlgrade.release.build import OutputExists, ReleaseError, build_release

    with domain_errors():
        try:
            path = build_release(here_course(), out_dir, force=force)
        except OutputExists as exc:
            raise click.UsageError(str(exc)) from None
        except ReleaseError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(path))


@main.group("dev")
def dev_group() -> None:
    """Commands for course authors."""


@dev_group.command("check")
@click.option("--static-only", is_flag=True, help="Skip grading the reference and the stubs.")
def dev_check_command(static_only: bool) -> None:
    """Cross-check course.toml, exercises/, reference/ and graders/ (exit 1 on any problem)."""
    from dlgrade.dev.check import grading_problems, static_problems
    from dlgrade.engine.bundle import is_bundle

    with domain_errors():
        course = here_course()
        if is_bundle(course.root):
            raise click.UsageError("a student bundle has no model solutions; run dev check in the course")
        problems = static_problems(course)
        if not static_only and not problems:
            problems += grading_problems(course)
    for problem in problems:
        click.echo(str(problem))
    n = len(course.exercises)
    click.echo(f"{len(problems)} problem(s) in {len(course.topics)} topics, {n} exercises", err=True)
    if problems:
        sys.exit(1)


@dev_group.command("draws")
def dev_draws_command() -> None:
    """Record the hypothesis draws the graders use (draws.json), so grading skips hypothesis."""
    from dlgrade.dev.check import record_draws
    from dlgrade.engine.bundle import is_bundle

    with domain_errors():
        course = here_course()
        if is_bundle(course.root):
            raise click.UsageError("a student bundle has no model solutions; run dev draws in the course")
        path, n = record_draws(course)
    click.echo(f"{n} draws recorded in {path}")


@dev_group.command("secret")
def dev_secret_command() -> None:
    """Make the course secret that salts hidden checks' inputs (.dlgrade-secret, never released)."""
    from dlgrade.core.secret import create

    with domain_errors():
        path = create(here_course().root)
    click.echo(str(path))


@dev_group.command("readme")
def dev_readme_command() -> None:
    """Rewrite README.md's topic table (topics, exercises, points) from course.toml."""
    from dlgrade.dev.readme import ReadmeError, write_readme

    with domain_errors():
        course = here_course()
        try:
            changed = write_readme(course, course.root / "README.md")
        except (ReadmeError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"README.md {'rewritten' if changed else 'already current'}", err=True)


@main.command("nbgrader")
@click.argument("course_dir", type=click.Path(path_type=Path))
@click.argument("topics", nargs=-1)
@click.option(
    "--force", is_flag=True, help="Rewrite the config and source notebooks of a non-empty COURSE_DIR."
)
@click.option(
    "--cell-timeout",
    type=click.IntRange(min=1),
    default=DEFAULT_CELL_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Seconds a notebook cell may run during autograding before nbgrader interrupts it.",
)
def nbgrader_command(course_dir: Path, topics: tuple[str, ...], force: bool, cell_timeout: int) -> None:
    """Write an nbgrader course: nbgrader_config.py and source/<topic>/<topic>.ipynb per topic."""
    from dlgrade.nbgrader.course import NbgraderCourseError, write_nbgrader_course

    with domain_errors():
        try:
            written = write_nbgrader_course(
                here_course(), course_dir, topics, force=force, cell_timeout=cell_timeout
            )
        except NbgraderCourseError as exc:
            raise click.UsageError(str(exc)) from None
    for path in written:
        click.echo(str(path))
    click.echo(f"next: cd {course_dir} && nbgrader generate_assignment TOPIC (docs/nbgrader.md)", err=True)


@main.command("doctor")
def doctor_command() -> None:
    """Say what this machine's kernel offers to contain student code (exit 1 if incomplete)."""
    from dlgrade.dev.doctor import diagnose, render

    with domain_errors():
        try:
            course = here_course()
            private = [str(course.reference_dir()), str(course.graders_dir())]
        except (ManifestError, FileNotFoundError):
            private = []  # outside a course: the kernel's side alone
        diagnosis = diagnose(private)
    click.echo(render(diagnosis), nl=False)
    if not diagnosis.contained:
        sys.exit(1)


cli_submissions.register(main)  # package, verify, merge, report
cli_batch.register(main)  # batch, export
cli_student.register(main)  # list, hint, reset, watch


def entry() -> None:
    """The `grade` console script: run the CLI, then leave without Python's teardown.

    Tearing down torch and pytest at exit costs about half a second, a fifth of a small
    `grade` run. Every file the commands write is complete (atomic, fsynced) before they
    return, so once the output is flushed and the sandbox closed there is nothing left to do.
    """
    import os

    from dlgrade.sandbox.pool import close_shared

    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click's standalone mode always exits
        code = 0
    if code is not None and not isinstance(code, int):
        click.echo(str(code), err=True)
        code = 1
    try:
        close_shared()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `grade ... | head`: the reader left; nothing more to say
        pass
    os._exit(code or 0)
