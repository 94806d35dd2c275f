"""The `grade` command group: `grade [NAMES]...` grades (check); the other command families
register themselves from their own modules. Exit codes: dlgrade.cli.common."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dlgrade import __version__
from dlgrade.cli import batch as cli_batch
from dlgrade.cli import course as cli_course
from dlgrade.cli import dev as cli_dev
from dlgrade.cli import student as cli_student
from dlgrade.cli import submissions as cli_submissions
from dlgrade.cli.common import (
    EXIT_ENGINE,
    EXIT_FAIL_UNDER,
    domain_errors,
    emit,
    here_course,
    printable_errors,
    say,
)
from dlgrade.cli.options import (
    containment_option,
    device_option,
    fail_under_option,
    format_option,
    output_option,
    submission_option,
)
from dlgrade.core.manifest import Course


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

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with printable_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with printable_errors():
            return super().invoke(ctx)


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
    from dlgrade.loop.grading import grade_submission

    with domain_errors():
        result = grade_submission(here_course(), submission, names, device=device)
        emit(result, fmt, output)
        if plots is not None:
            draw_plots(here_course(), submission, names, plots)
    for line in result.internal_errors:
        say(f"grader error: {line}", err=True)
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
        say(line, err=True)


cli_submissions.register(main)  # package, verify, merge, report
cli_batch.register(main)  # batch, export
cli_student.register(main)  # list, hint, reset, watch
cli_course.register(main)  # release, nbgrader
cli_dev.register(main)  # dev, doctor


def entry() -> None:
    """The `grade` console script: run the CLI, then leave without Python's teardown.

    Tearing down torch and pytest at exit costs about half a second, a fifth of a small
    `grade` run. Every file the commands write is complete (atomic, fsynced) before they
    return, so once the output is flushed and the sandbox closed there is nothing left to do.
    """
    import os

    from dlgrade.sandbox.shared import close_shared

    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click's standalone mode always exits
        code = 0
    if code is not None and not isinstance(code, int):
        say(str(code), err=True)
        code = 1
    try:
        close_shared()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `grade ... | head`: the reader left; nothing more to say
        pass
    os._exit(code or 0)
