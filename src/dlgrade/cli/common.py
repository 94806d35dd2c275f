"""What every `grade` command shares: exit codes, library errors as one-line click errors, the
course the command runs in, and how a result is written out.

Exit status: 0 when grading completed (whatever the score), 1 below --fail-under, 2 for usage
errors (bad arguments, no course, no such submission), 3 when the engine itself failed (a
grader crashed, the sandbox did not start), 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from dlgrade.core.manifest import Course, ManifestError, find_course_root, load_course
from dlgrade.core.printable import printable
from dlgrade.intake.errors import SubmissionError

EXIT_FAIL_UNDER = 1
EXIT_ENGINE = 3


class EngineFailure(click.ClickException):
    exit_code = EXIT_ENGINE


EXIT_INTERRUPTED = 130


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Echo one line that may quote others' text (submission ids, file names, messages):
    control and invisible characters shown, never acted on (core.printable), newlines too."""
    click.echo(printable(text, keep="\t"), err=err, nl=nl)


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the library's exceptions into one-line click errors with the right exit code."""
    from dlgrade.engine.devices import DeviceError
    from dlgrade.sandbox.pool import SandboxError

    try:
        yield
    except (ManifestError, SubmissionError, DeviceError) as exc:
        raise click.UsageError(str(exc)) from None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        # a path the user gave that cannot be used: their mistake, said in one line
        said = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
        raise click.UsageError(said) from None
    except SandboxError as exc:
        raise EngineFailure(str(exc)) from None
    except Exception as exc:
        # Only the engine raises EngineError, so it is loaded if this is one: a usage error
        # raised before grading (no course here) must not import torch to be told apart.
        runner = sys.modules.get("dlgrade.engine.runner")
        if runner is not None and isinstance(exc, runner.EngineError):
            raise EngineFailure(str(exc)) from None
        raise


def here_course() -> Course:
    """The course the command runs in; outside one, a one-line usage error (exit 2)."""
    try:
        return load_course(find_course_root(Path.cwd()))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None


def emit(result: object, fmt: str, output: Path | None) -> None:
    """Machine formats go to --output (or alone on stdout); people get the table on stdout."""
    from dlgrade.core.atomic import write_atomic
    from dlgrade.core.result import GradeResult
    from dlgrade.report import FORMATS

    assert isinstance(result, GradeResult)
    if output is not None:
        write_atomic(output, FORMATS[fmt](result))
        say(f"wrote {output}", err=True)
    if output is None and fmt != "table":
        click.echo(FORMATS[fmt](result), nl=False)
    else:
        from dlgrade.report.table import render_table  # rich: only where a table is shown

        click.echo(render_table(result, color=sys.stdout.isatty()), nl=False)
