"""`grade insight`: what a class got wrong, from a batch's gradebook (no regrading)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("insight")
@click.argument("gradebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write insight.md, insight.html (with its chart), insight.json and insight.png here.",
)
@click.option(
    "--anonymous",
    is_flag=True,
    help="Leave student ids out of the pages (a copy to share); the instructor's copy has them.",
)
@click.option(
    "--min-cluster",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Students who must share a failure signature before it is shown as a cluster.",
)
def insight_command(gradebook: Path, out: Path | None, anonymous: bool, min_cluster: int) -> None:
    """What the class got wrong, from GRADEBOOK (the grades.json of `grade batch`): per exercise
    and check the share failing, exercises not started, shared failures, what to re-teach."""
    from dlgrade.batch.gradebook import GradebookError, read_gradebook
    from dlgrade.batch.insight import insight
    from dlgrade.batch.insight_report import summary, write_all
    from dlgrade.cli.common import domain_errors

    with domain_errors():
        try:
            book = read_gradebook(gradebook)
        except GradebookError as exc:
            raise click.UsageError(str(exc)) from None
        report = insight(book, min_cluster=min_cluster)
        written = write_all(report, out, with_ids=not anonymous) if out is not None else []
    for line in summary(report):
        click.echo(line)
    for path in written:
        click.echo(str(path), err=True)
