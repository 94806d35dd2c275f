"""`grade batch`, `export`, `gradescope build`: grade many submissions, hand the results on.

Exit status as in cli.py; `batch` exits 3 when any submission could not be graded for a reason
other than its own content (see docs/batch.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dlgrade.cli.common import EXIT_INTERRUPTED, say
from dlgrade.cli.deadlines import check_reveal, deadline_options, load_due
from dlgrade.cli.options import containment_option, device_option
from dlgrade.cli.submissions import _course, _csv_option, _errors


def _shard(text: str | None) -> tuple[int, int] | None:
    """--shard, else what an array job runner (Slurm, a Kubernetes indexed Job) assigned."""
    from dlgrade.batch.entries import parse_shard, shard_from_env

    if text:
        return parse_shard(text)
    found = shard_from_env(os.environ)
    if found is None:
        return None
    (index, count), source = found
    click.echo(f"shard {index}/{count} (from {source})", err=True)
    return index, count


@click.command("batch")
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
@_csv_option
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, help="Grading processes [default: CPU cores]."
)
@click.option(
    "--shard",
    metavar="I/N",
    default=None,
    help="Grade only the I-th of N slices (1 <= I <= N) [default: from SLURM_ARRAY_TASK_ID or "
    "JOB_COMPLETION_INDEX when set].",
)
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=None, help="Seconds one submission may take in all."
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where submissions are unpacked [default: a private temporary folder].",
)
@click.option(
    "--since",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OLD.json",
    help="Keep OLD.json's rows whose submission, course and engine are unchanged; grade the rest.",
)
@click.option("--retry-errors", is_flag=True, help="With --since: grade again only OLD.json's error rows.")
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A CSV with an 'id' column (submission ids) and student columns to carry into the gradebook.",
)
@click.option(
    "--feedback",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also write DIR/<id>.md and .html: each submission's own report, hidden checks' details withheld.",
)
@deadline_options
@device_option
@containment_option("require")
def batch_command(
    submissions: Path,
    names: tuple[str, ...],
    csv_path: Path,
    jobs: int | None,
    shard: str | None,
    timeout: float | None,
    workdir: Path | None,
    since: Path | None,
    retry_errors: bool,
    roster: Path | None,
    feedback: Path | None,
    due: str | None,
    submitted_at: Path | None,
    reveal_hidden: bool,
    force_reveal: bool,
    device: str,
) -> None:
    """Grade every submission (zips or folders) in SUBMISSIONS into one gradebook row each."""
    from dlgrade.batch.entries import BatchError, require_folder
    from dlgrade.batch.feedback import write_feedback
    from dlgrade.batch.gradebook import json_path, read_gradebook, write_gradebook
    from dlgrade.batch.progress import batch_progress
    from dlgrade.batch.roster import RosterError, read_roster
    from dlgrade.batch.run import run_batch
    from dlgrade.cli.common import EXIT_ENGINE

    if not csv_path.parent.is_dir():
        raise click.UsageError(f"--csv {csv_path}: folder {csv_path.parent} does not exist")
    if retry_errors and since is None:
        raise click.UsageError("--retry-errors needs --since OLD.json (the gradebook whose errors to retry)")
    try:  # said before the grading processes start (each tries containment first: batch.pool)
        require_folder(submissions)
        sliced = _shard(shard)
    except BatchError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with _errors(), batch_progress() as bar:
            try:
                students = read_roster(roster) if roster else None
            except RosterError as exc:
                raise click.UsageError(str(exc)) from None
            dates = load_due(_course().root, due, submitted_at)
            check_reveal(dates, students, feedback, reveal_hidden, force_reveal)
            run = run_batch(
                _course(),
                submissions,
                names,
                shard=sliced,
                processes=jobs,
                timeout=timeout,
                workdir=workdir,
                device=device,
                ignore=(csv_path, json_path(csv_path), *([since] if since else [])),
                on_start=bar.start,
                on_row=bar.row,
                since=read_gradebook(since) if since else None,
                errors_only=retry_errors,
                roster=students,
                deadline=dates.deadline,
                times=dates.times,
                times_name=dates.times_name,
            )
            written = write_gradebook(run.book, csv_path)
            notes = write_feedback(run.book, feedback, reveal_hidden) if feedback else []
    except KeyboardInterrupt:
        say(f"interrupted: no gradebook written; {csv_path} is unchanged", err=True)
        sys.exit(EXIT_INTERRUPTED)
    say(run.summary(), err=True)
    if notes:
        say(f"{len(notes)} feedback files (Markdown and HTML) in {feedback}", err=True)
    where = ", ".join(str(Path(p).resolve()) for p in written)
    say(f"gradebook: {where} (--csv chooses where)", err=True)
    for path in written:
        say(str(path))
    if run.failed:
        sys.exit(EXIT_ENGINE)


@click.command("export")
@click.argument("gradebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--to", "target", type=click.Choice(["canvas", "gradescope", "csv"]), required=True, help="The tool."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The CSV to write (atomically).",
)
@click.option("--assignment", default=None, help="Canvas's assignment column [default: the course title].")
def export_command(gradebook: Path, target: str, output: Path, assignment: str | None) -> None:
    """Write a batch gradebook (grades.json) as a CSV that Canvas or Gradescope imports."""
    from dlgrade.batch.export import TARGETS
    from dlgrade.batch.gradebook import read_gradebook
    from dlgrade.core.atomic import write_atomic

    with _errors():
        book = read_gradebook(gradebook)
        if target != "csv" and not book.roster.students:
            raise click.UsageError(
                f"{gradebook} has no roster, and {target} matches students by their {target} ids: "
                f"grade the batch with --roster ROSTER.csv (docs/batch.md), or export --to csv"
            )
        done = TARGETS[target](book, assignment or book.course)
        write_atomic(output, done.text)
    if done.skipped:
        say(
            f"left out {len(done.skipped)} submission(s) the roster does not identify: "
            f"{', '.join(done.skipped)}",
            err=True,
        )
    say(str(output))


@click.group("gradescope")
def gradescope_group() -> None:
    """Gradescope's programming assignments (docs/ci.md)."""


@gradescope_group.command("build")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--hidden-until-due",
    is_flag=True,
    help="Keep hidden checks' results (and the total they change) from students until the due date.",
)
def gradescope_build_command(out: Path, hidden_until_due: bool) -> None:
    """Write the autograder zip to OUT: setup.sh, run_autograder, the course and the engine."""
    from dlgrade.engine.bundle import is_bundle
    from dlgrade.release.gradescope import build_autograder
    from dlgrade.release.wheel import WheelError

    with _errors():
        course = _course()
        if is_bundle(course.root):
            raise click.UsageError("a student bundle has no model solutions; build in the course")
        try:
            path = build_autograder(course, out, hidden_until_due=hidden_until_due)
        except WheelError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(path))
