"""`grade package`, `verify`, `merge` and `report`: thin commands for CI and instructors.

They share cli/common.py's helpers (error mapping, course lookup, output); this module is
imported only when one of them is named (cli/main.py's COMMANDS). Exit status as in
cli/common.py; `verify` exits 1 when a claim differs. `batch` and `export` are in cli/batch.py.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dlgrade.cli.common import say
from dlgrade.cli.options import (
    containment_option,
    device_option,
    format_option,
    output_option,
    submission_option,
)

if TYPE_CHECKING:
    from dlgrade.core.manifest import Course

EXIT_NOT_VERIFIED = 1
F = TypeVar("F", bound=Any)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """cli.domain_errors, plus: bad batches, gradebooks and saved results (usage errors, exit 2);
    grading processes that cannot start (engine failure, exit 3)."""
    from dlgrade.batch.entries import BatchError
    from dlgrade.batch.gradebook import GradebookError
    from dlgrade.batch.pool import PoolError
    from dlgrade.cli.common import EngineFailure, domain_errors
    from dlgrade.report.json_report import ResultFileError

    with domain_errors():
        try:
            yield
        except (BatchError, GradebookError, ResultFileError) as exc:
            raise click.UsageError(str(exc)) from None
        except PoolError as exc:
            raise EngineFailure(str(exc)) from None


def _course() -> Course:
    from dlgrade.cli.common import here_course

    return here_course()


def _csv_option(f: F) -> F:
    return click.option(
        "--csv",
        "csv_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("grades.csv"),
        show_default=True,
        help="The gradebook CSV (written atomically); the JSON with every result goes beside it.",
    )(f)


@click.command("package")
@submission_option
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("submission.zip"),
    show_default=True,
    help="Where to write the zip (atomically).",
)
@device_option
def package_command(submission: str | None, output: Path, device: str) -> None:
    """Grade every exercise and write one zip: the modules, the result and a manifest."""
    from dlgrade.release.package import package_submission
    from dlgrade.report.table import render_table

    with _errors():
        path, result = package_submission(_course(), submission, output=output, device=device)
    click.echo(render_table(result, color=sys.stderr.isatty()), err=True, nl=False)
    click.echo(str(path))


@click.command("verify")
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@output_option
@device_option
@containment_option("require")
def verify_command(package: Path, fmt: str, output: Path | None, device: str) -> None:
    """Regrade a `grade package` zip in isolation; report every claimed score that differs.

    The regrade is printed in --format and is the score that counts. Exit status 1 when a
    claimed score differs or a file changed after packaging.
    """
    from dlgrade.cli.common import EXIT_ENGINE, emit
    from dlgrade.core.atomic import writable_place
    from dlgrade.release.package import verify_package

    with _errors():
        if output is not None:
            writable_place(output)  # before the regrade, not after it
        checked = verify_package(_course(), package, device=device)
        emit(checked.regrade, fmt, output)
    for line in checked.regrade.internal_errors:
        say(f"grader error: {line}", err=True)
    if checked.regrade.internal_errors:
        sys.exit(EXIT_ENGINE)
    for problem in checked.problems:
        say(f"integrity: {problem}", err=True)
    for diff in checked.differences:
        say(f"differs: {diff.describe()}", err=True)
    total = f"{checked.regrade.score:g}/{checked.regrade.max_score:g}"
    if checked.ok:
        click.echo(f"verified: every claimed score matches the regrade ({total})", err=True)
        return
    n, m = len(checked.differences), len(checked.problems)
    click.echo(
        f"NOT verified: {n} score(s) differ, {m} integrity problem(s); the regrade ({total}) counts", err=True
    )
    sys.exit(EXIT_NOT_VERIFIED)


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_csv_option
def merge_command(shards: tuple[Path, ...], csv_path: Path) -> None:
    """Join the JSON gradebooks of `grade batch --shard I/N` runs into one gradebook."""
    from dlgrade.batch.gradebook import merge, read_gradebook, write_gradebook

    with _errors():
        book = merge([read_gradebook(p) for p in shards])
        written = write_gradebook(book, csv_path)
    say(f"merged {len(shards)} shards: {len(book.rows)} submissions", err=True)
    for path in written:
        click.echo(str(path))


@click.command("report")
@click.argument("result", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--id",
    "key",
    default=None,
    metavar="ID",
    help="RESULT is a batch gradebook: render this submission (its id, or a roster value such as an email).",
)
@format_option
@output_option
def report_command(result: Path, key: str | None, fmt: str, output: Path | None) -> None:
    """Render a saved result JSON (--format json --output FILE), or one submission of a batch
    gradebook (grades.json, with --id), in another format."""
    from dlgrade.batch.feedback import read_saved
    from dlgrade.cli.common import emit

    with _errors():
        emit(read_saved(result, key), fmt, output)
