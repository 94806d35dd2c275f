"""Commands for course authors: `grade dev check|secret|readme|mutants|sweep` and `grade doctor`."""

from __future__ import annotations

import sys

import click

from dlgrade.cli.common import domain_errors, here_course
from dlgrade.core.manifest import ManifestError


@click.group("dev")
def dev_group() -> None:
    """Commands for course authors."""


@dev_group.command("check")
@click.option("--static-only", is_flag=True, help="Skip grading the reference and the stubs.")
def dev_check_command(static_only: bool) -> None:
    """Cross-check course.toml, exercises/, reference/ and graders/ (exit 1 on any problem)."""
    from dlgrade.dev.check import grading_problems, static_problems
    from dlgrade.engine.bundle import is_bundle

    with domain_errors():
        course = here_course()
        if is_bundle(course.root):
            raise click.UsageError("a student bundle has no model solutions; run dev check in the course")
        problems = static_problems(course)
        if not static_only and not problems:
            problems += grading_problems(course)
    for problem in problems:
        click.echo(str(problem))
    n = len(course.exercises)
    click.echo(f"{len(problems)} problem(s) in {len(course.topics)} topics, {n} exercises", err=True)
    if problems:
        sys.exit(1)


@dev_group.command("secret")
def dev_secret_command() -> None:
    """Make the course secret that salts hidden checks' inputs (.dlgrade-secret, never released)."""
    from dlgrade.core.secret import create

    with domain_errors():
        path = create(here_course().root)
    click.echo(str(path))


@dev_group.command("readme")
def dev_readme_command() -> None:
    """Rewrite README.md's topic table (topics, exercises, points) from course.toml."""
    from dlgrade.dev.readme import ReadmeError, write_readme

    with domain_errors():
        course = here_course()
        try:
            changed = write_readme(course, course.root / "README.md")
        except (ReadmeError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"README.md {'rewritten' if changed else 'already current'}", err=True)


@dev_group.command("mutants")
@click.argument("topics", nargs=-1)
@click.option("--jobs", type=click.IntRange(1), default=2, show_default=True, help="Mutants graded at once.")
@click.option(
    "--sample", "per_topic", type=click.IntRange(1), default=None, help="Grade N mutants per topic."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which mutants --sample draws.")
def dev_mutants_command(topics: tuple[str, ...], jobs: int, per_topic: int | None, seed: int) -> None:
    """Mutate the model solutions (cosmic-ray) and grade each mutant: each topic's mutation score
    and its surviving mutants (docs/mutation.md). All topics unless TOPICS."""
    from dlgrade.dev.mutants import Verdict, run

    def progress(v: Verdict) -> None:
        click.echo(f"{'killed ' if v.killed else 'SURVIVED'} {v.mutant.key} ({v.detail})", err=True)

    with domain_errors():
        course = here_course()
        unknown = [t for t in topics if t not in {x.id for x in course.topics}]
        if unknown:
            raise click.UsageError(f"no topic {unknown[0]!r} in course.toml")
        scores = run(
            course,
            topics or [t.id for t in course.topics],
            jobs=jobs,
            per_topic=per_topic,
            seed=seed,
            progress=progress,
        )
    for s in scores:
        click.echo(
            f"{s.topic:<16} {s.score:6.1f} % killed  {s.killed}/{s.total}  ({s.equivalent} equivalent)"
        )
        for m in s.survived:
            click.echo(f"  survived: {m.key}  (reference/{m.module}.py:{m.line})")


@dev_group.command("sweep")
@click.argument("rule", required=False)
def dev_sweep_command(rule: str | None) -> None:
    """Call torch's and numpy's public callables on each forbidden function's inputs; list every
    one that computes it and whether the rule refuses it (exit 1 if one is not refused)."""
    from dlgrade.dev.sweep import render, sweep

    with domain_errors():
        course = here_course()
        if rule is not None and rule not in course.rule_sets:
            raise click.UsageError(f"no rule set {rule!r} in course.toml")
        try:
            tried, findings = sweep(course, rule)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(render(tried, findings), nl=False)
    if any(not f.refusal for f in findings):
        sys.exit(1)


@click.command("doctor")
def doctor_command() -> None:
    """Say what this machine's kernel offers to contain student code (exit 1 if incomplete)."""
    from dlgrade.dev.doctor import diagnose, render
    from dlgrade.engine.sandboxes import private_paths

    with domain_errors():
        try:
            course = here_course()
            private = private_paths(course)
        except (ManifestError, FileNotFoundError):
            private = []  # outside a course: the kernel's side alone
        diagnosis = diagnose(private)
    click.echo(render(diagnosis), nl=False)
    if not diagnosis.contained:
        sys.exit(1)
