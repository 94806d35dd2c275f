"""`grade similarity`: pairs of submissions ranked by shared code, for a person to look at."""

from __future__ import annotations

from pathlib import Path

import click

from dlgrade.cli.group import complete_names


@click.command("similarity")
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.argument("names", nargs=-1, shell_complete=complete_names)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("similarity.html"),
    show_default=True,
    help="The report: every pair at or above the threshold, its code side by side (written atomically).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of one side's code (the given stubs left out) found in the other.",
)
@click.option(
    "--min-tokens",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Ignore pairs that share fewer tokens than this (tiny functions match by chance).",
)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Pairs printed here.")
def similarity_command(
    submissions: Path, names: tuple[str, ...], html_path: Path, threshold: float, min_tokens: int, top: int
) -> None:
    """Rank pairs of submissions (zips or folders) in SUBMISSIONS by the code they share, per
    exercise and per module, leaving out the code the stubs give everyone. A signal for a person
    to look at, not a verdict (docs/similarity.md)."""
    from dlgrade.batch.similarity import compare
    from dlgrade.batch.similarity_html import render
    from dlgrade.cli.common import domain_errors, here_course
    from dlgrade.core.atomic import write_atomic
    from dlgrade.core.printable import printable

    with domain_errors():
        course = here_course()
        try:
            sim = compare(
                course, submissions, names, threshold=threshold, min_tokens=min_tokens, ignore=(html_path,)
            )
        except ValueError as exc:  # BatchError: no such folder
            raise click.UsageError(str(exc)) from None
        write_atomic(html_path, render(sim, course.title))
    for m in sim.matches[:top]:
        click.echo(
            f"{m.score:4.0%}  {printable(m.a)} · {printable(m.b)}  {m.unit}  ({m.tokens} tokens in common)"
        )
    for reason in sim.reasons:
        click.echo(f"not compared: {printable(reason)}", err=True)
    click.echo(
        f"{len(sim.matches)} pair(s) at or above {threshold:.0%} among {len(sim.submissions)} submissions; "
        f"report: {html_path}",
        err=True,
    )
