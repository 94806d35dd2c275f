"""`grade list`, `hint`, `reset` and `watch`: the student's loop, thin commands over the library.

Registered by cli.py, whose helpers (error mapping, course lookup) they import when they run.
Exit status as in cli.py: 2 for usage errors (unknown name, nothing to reset).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from dlgrade.cli.group import complete_names
from dlgrade.cli.options import device_option

if TYPE_CHECKING:
    from dlgrade.core.manifest import Course, Exercise


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    from dlgrade.cli.common import domain_errors
    from dlgrade.loop.reset import ResetError

    with domain_errors():
        try:
            yield
        except ResetError as exc:
            raise click.UsageError(str(exc)) from None


@click.command("list")
def list_command() -> None:
    """Topics and exercises in learning order, with your last status and points, and what next."""
    from dlgrade.cli.common import here_course
    from dlgrade.loop.course_list import list_lines
    from dlgrade.loop.state import last_results
    from dlgrade.report.table import render_lines

    with _errors():
        course = here_course()
        click.echo(render_lines(list_lines(course, last_results(course)), sys.stdout.isatty()), nl=False)


@click.command("hint")
@click.argument("exercise", shell_complete=complete_names)
def hint_command(exercise: str) -> None:
    """Show the next hint tier of EXERCISE (nudge, then method, then close to the answer)."""
    from dlgrade.cli.common import here_course
    from dlgrade.loop.state import open_hint

    with _errors():
        course = here_course()
        spec = _exercise(course, exercise)
        tier, text = open_hint(course, spec)
    more = f"; `grade hint {spec.id}` again for tier {tier + 1}" if tier < len(spec.hints) else ""
    click.echo(f"{spec.id} hint {tier}/{len(spec.hints)}: {text}")
    click.echo(f"(hint {tier} of {len(spec.hints)}{more})", err=True)


@click.command("reset")
@click.argument("exercise", shell_complete=complete_names)
@click.option("--all", "whole", is_flag=True, help="Restore the whole module EXERCISE is in (asks first).")
@click.option("--yes", is_flag=True, help="With --all: do not ask.")
def reset_command(exercise: str, whole: bool, yes: bool) -> None:
    """Put EXERCISE's stub back (your version is saved in .dlgrade/backup/ first)."""
    from dlgrade.cli.common import here_course
    from dlgrade.loop.reset import reset_exercise, reset_module, stub_path
    from dlgrade.loop.state import forget_last

    with _errors():
        course = here_course()
        spec = _exercise(course, exercise, topics=whole)
        stub_path(course, spec.module)  # refuses here, before asking, where nothing can be reset
        if whole:
            if not yes:
                click.confirm(f"Restore all of exercises/{spec.module}.py to the stubs?", abort=True)
            done = reset_module(course, spec.module)
        else:
            done = reset_exercise(course, spec)
        restored = [e.id for e in course.exercises if e.module == spec.module] if whole else [spec.id]
        forget_last(course, restored)
    if done.backup is not None:
        click.echo(f"saved your version as {done.backup.relative_to(course.root).as_posix()}")
    what = f"every exercise in {done.path.name}" if whole else spec.id
    click.echo(f"restored the stub of {what} in exercises/{done.path.name}")


@click.command("watch")
@click.argument("names", nargs=-1, shell_complete=complete_names)
@device_option
def watch_command(names: tuple[str, ...], device: str) -> None:
    """Regrade on every save of an exercise module (keys: n next, h hint, l list, q quit)."""
    from dlgrade.cli.common import here_course
    from dlgrade.loop.watch import watch

    with _errors():
        course = here_course()
        course.select(list(names))
        watch(course, names, device=device)


def _exercise(course: Course, name: str, *, topics: bool = False) -> Exercise:
    """The exercise named (with --all, a topic's first exercise stands for its module)."""
    from dlgrade.core.manifest import ManifestError
    from dlgrade.core.suggest import did_you_mean

    if topics and name in {t.id for t in course.topics}:
        return course.topic(name).exercises[0]
    try:
        return course.exercise(name)
    except KeyError:
        pass
    if name in {t.id for t in course.topics}:
        raise ManifestError(
            f"{name!r} is a topic; `grade reset {name} --all` restores its whole module, "
            f"`grade reset EXERCISE` one exercise"
        )
    close = did_you_mean(name, [e.id for e in course.exercises])
    raise ManifestError(f"unknown exercise {name!r}{close} (`grade list` shows every exercise)")
