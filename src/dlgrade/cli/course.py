"""Commands that write the course in other forms: `grade release` (a student bundle) and
`grade nbgrader` (an nbgrader course)."""

from __future__ import annotations

from pathlib import Path

import click

from dlgrade.cli.common import domain_errors, here_course
from dlgrade.nbgrader.course import DEFAULT_CELL_TIMEOUT


@click.command("release")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT_DIR even if it is not empty.")
@click.option("--reveal", is_flag=True, help="After the due date: put the hidden checks in as public ones.")
@click.option(
    "--due", metavar="WHEN", default=None, help="With --reveal: the date to wait for [default: the course's]."
)
@click.option("--force-reveal", is_flag=True, help="With --reveal: publish even before the due date.")
def release_command(out_dir: Path, force: bool, reveal: bool, due: str | None, force_reveal: bool) -> None:
    """Write the student bundle to OUT_DIR: stubs, public checks, the engine; no answers."""
    from dlgrade.release.target import OutputExists, ReleaseError, check_target

    with domain_errors():
        course = here_course()
        if reveal or due or force_reveal:
            _may_reveal(course.root, reveal, due, force_reveal)
        try:
            check_target(course, out_dir, force)  # before the engine (torch) is imported
            from dlgrade.release.build import build_release

            path = build_release(course, out_dir, force=force, reveal=reveal)
        except OutputExists as exc:
            raise click.UsageError(str(exc)) from None
        except ReleaseError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(path))


def _may_reveal(root: Path, reveal: bool, due: str | None, force: bool) -> None:
    """--reveal only after the due date (--due or the course's), unless --force-reveal."""
    from dlgrade.batch.deadline import DeadlineError, course_deadline
    from dlgrade.release.reveal import RevealError, allow_publish

    if not reveal:
        raise click.UsageError("--due and --force-reveal go with --reveal")
    try:
        deadline = course_deadline(root, due)
        allow_publish(deadline.due if deadline else None, force=force)
    except (DeadlineError, RevealError) as exc:
        raise click.UsageError(str(exc)) from None


@click.command("nbgrader")
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
