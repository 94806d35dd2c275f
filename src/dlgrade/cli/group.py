"""The `grade` group: grading is the default command, its options show in the top-level help,
a mistyped command gets a did-you-mean, names complete in the shell, and every usage error is
one line (`Error: ...`, exit 2) that names the command the user typed."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

DEFAULT = "check"


def course_names() -> list[str]:
    """Topic and exercise ids of the course around the current folder ([] outside one)."""
    from dlgrade.core.manifest import ManifestError, find_course_root, load_course

    try:
        course = load_course(find_course_root(Path.cwd()))
    except (ManifestError, OSError, ValueError):
        return []
    return [t.id for t in course.topics] + [e.id for e in course.exercises]


def complete_names(ctx: click.Context, param: object, incomplete: str) -> list[CompletionItem]:
    """Shell completion of exercise and topic names (an argument's `shell_complete`)."""
    return [CompletionItem(n) for n in course_names() if n.startswith(incomplete)]


def one_line(exc: click.ClickException, ctx: click.Context | None) -> str:
    """The error as one line, with where to read more (the command the user typed)."""
    from dlgrade.core.printable import printable

    message = printable(" ".join(exc.format_message().split()))
    if not isinstance(exc, click.NoSuchOption | click.BadParameter):
        return f"Error: {message}"
    where = _typed_path(ctx)
    return f"Error: {message} (`{where} --help` shows the usage)"


def _typed_path(ctx: click.Context | None) -> str:
    if ctx is None:
        return "grade"
    path = ctx.command_path.split()
    return " ".join(p for p in path if p != DEFAULT) or "grade"


class DefaultGroup(click.Group):
    """`grade NAMES...` means `grade check NAMES...`: grading is the default command.

    Shell completion parses the words before the one being completed (resiliently): with none,
    the group itself completes, so `grade <TAB>` offers the subcommands and the course's names.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # name -> "module:attribute": commands imported only when used (`grade TOPIC` imports
        # none of the batch, release, nbgrader or dev modules)
        self.lazy = dict(lazy or {})

    def command_names(self) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self.command_names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import importlib

            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.resilient_parsing and not args:
            return super().parse_args(ctx, args)
        known = self.command_names()
        if not args or (args[0] not in known and args[0] not in ("-h", "--help", "--version")):
            if args and not args[0].startswith("-"):
                self._refuse_mistyped_command(args[0])
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)

    def _refuse_mistyped_command(self, word: str) -> None:
        """`grade lsit`: a word close to a command and naming nothing in the course."""
        commands = [c for c in self.command_names() if c != DEFAULT]
        close = difflib.get_close_matches(word, commands, n=2, cutoff=0.6)
        if not close:
            return
        names = course_names()
        if not names or word in names:  # outside a course, grading says so itself
            return
        guess = " or ".join(f"`grade {c}`" for c in close)
        raise click.UsageError(f"no command, topic or exercise {word!r} (did you mean {guess}?)")

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        items = super().shell_complete(ctx, incomplete)
        if incomplete.startswith("-"):
            return items
        return items + complete_names(ctx, self, incomplete)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] [TOPIC|EXERCISE]...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix=" " * 7 + "or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        grading = self.commands.get(DEFAULT)
        if grading is not None:
            with click.Context(grading, info_name=ctx.info_name, parent=None) as sub:
                params = [p for p in grading.get_params(sub) if isinstance(p, click.Option)]
                rows = [r for p in params if p.name != "help" and (r := p.get_help_record(sub))]
            with formatter.section("Options (grading: grade [OPTIONS] [TOPIC|EXERCISE]...)"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, standalone_mode: bool = True, **extra: Any
    ) -> Any:
        """Click's own main (completion, contexts), with every usage error as one line."""
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.ClickException as exc:
            click.echo(one_line(exc, getattr(exc, "ctx", None)), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)
