"""The `grade` command group: `grade [NAMES]...` grades (check); the other commands are imported
from their own modules when named (COMMANDS). Exit codes: dlgrade.cli.common."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlgrade import __version__
from dlgrade.cli.common import EXIT_ENGINE, EXIT_FAIL_UNDER, domain_errors, emit, here_course, say
from dlgrade.cli.group import DefaultGroup, complete_names
from dlgrade.cli.options import (
    containment_option,
    device_option,
    fail_under_option,
    format_option,
    lanes_option,
    output_option,
    submission_option,
)
from dlgrade.core.manifest import Course

# Every command but grading's own, imported when it is used (DefaultGroup.lazy).
COMMANDS = {
    **{n: f"dlgrade.cli.submissions:{n}_command" for n in ("package", "verify", "merge", "report")},
    **{n: f"dlgrade.cli.batch:{n}_command" for n in ("batch", "export")},
    "gradescope": "dlgrade.cli.batch:gradescope_group",
    **{n: f"dlgrade.cli.student:{n}_command" for n in ("list", "hint", "reset", "watch")},
    **{n: f"dlgrade.cli.course:{n}_command" for n in ("release", "nbgrader")},
    "dev": "dlgrade.cli.dev:dev_group",
    "doctor": "dlgrade.cli.dev:doctor_command",
    "similarity": "dlgrade.cli.similarity:similarity_command",
    "insight": "dlgrade.cli.insight:insight_command",
}


@click.group(cls=DefaultGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade the exercises of a dlgrade course.

    `grade` grades every exercise; `grade TOPIC` or `grade EXERCISE` (several allowed)
    grades some; `grade list` shows them all. Run it anywhere inside a course.
    """


@main.command("check")
@click.argument("names", nargs=-1, shell_complete=complete_names)
@submission_option
@format_option
@output_option
@fail_under_option
@device_option
@lanes_option
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
    lanes: int | None,
    plots: Path | None,
) -> None:
    """Grade exercises (the default: `grade [NAMES]...` runs this)."""
    from dlgrade.core.atomic import writable_place
    from dlgrade.engine.claims import usable_cores
    from dlgrade.loop.grading import grade_submission

    with domain_errors():
        if output is not None:
            writable_place(output)  # a mistyped --output fails before the grading, not after it
        lanes = lanes or usable_cores()
        result = grade_submission(here_course(), submission, names, device=device, lanes=lanes)
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
