"""Options shared by several `grade` commands, declared once as decorators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dlgrade.report import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def submission_option(f: F) -> F:
    return click.option(
        "--submission",
        "submission",
        metavar="PATH",
        default=None,
        help="What to grade: a folder of exercise modules, a course folder with exercises/, "
        "a zip (e.g. from `grade package`), or 'reference' for the model solutions. "
        "Default: this course's exercises/.",
    )(f)


def format_option(f: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(sorted(FORMATS)),
        default="table",
        show_default=True,
        help="Output format. Without --output, json prints the JSON document alone on stdout.",
    )(f)


def output_option(f: F) -> F:
    return click.option(
        "--output",
        "output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the result in --format to this file (atomically); the table still goes to stdout.",
    )(f)


def fail_under_option(f: F) -> F:
    return click.option(
        "--fail-under",
        "fail_under",
        type=click.FloatRange(0, 100),
        default=None,
        metavar="PERCENT",
        help="Exit with status 1 when the total is below PERCENT of the maximum.",
    )(f)


def device_option(f: F) -> F:
    return click.option(
        "--device",
        "device",
        default="cpu",
        show_default=True,
        help="Device for the graders' inputs (cpu, cuda, cuda:1, ...).",
    )(f)


def containment_option(default: str) -> Callable[[F], F]:
    """`--containment require|warn`: what to do where the kernel cannot contain student code.

    The flag wins over DLGRADE_CONTAINMENT, which wins over the command's `default`; the choice
    is put in the environment so that the processes a command starts (batch jobs) follow it.
    """

    def chosen(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
        from dlgrade.sandbox import policy

        mode: policy.Mode = "require" if value == "require" else "warn" if value else policy.mode(default)
        policy.set_mode(mode)
        return mode

    def decorate(f: F) -> F:
        return click.option(
            "--containment",
            type=click.Choice(["require", "warn"]),
            default=None,
            callback=chosen,
            expose_value=False,
            help="Where the kernel cannot contain student code (no Landlock or seccomp): "
            f"refuse to grade (require) or warn and grade (warn). Default: {default}, "
            "or DLGRADE_CONTAINMENT.",
        )(f)

    return decorate


def lanes_option(f: F) -> F:
    return click.option(
        "--lanes",
        "lanes",
        type=click.IntRange(min=1),
        default=None,
        envvar="DLGRADE_LANES",
        show_envvar=True,
        help="Exercises graded at once, each in its own worker, the result identical to one "
        "at a time. [default: the cores this process may use]",
    )(f)
