"""Reporters: each turns one GradeResult into text in one format.

`FORMATS` maps each format's name to its renderer; a reporter's module is imported when its
format is first used (rich, xml and the HTML page cost a command that prints JSON, or only
its `--help`, time it has no use for).
"""

from __future__ import annotations

from collections.abc import Callable

from dlgrade.core.result import GradeResult

Renderer = Callable[[GradeResult], str]


def _table(result: GradeResult) -> str:
    from dlgrade.report.table import render_table

    return render_table(result, color=False)


def _json(result: GradeResult) -> str:
    from dlgrade.report.json_report import render_json

    return render_json(result)


def _junit(result: GradeResult) -> str:
    from dlgrade.report.junit import render_junit

    return render_junit(result)


def _gradescope(result: GradeResult) -> str:
    from dlgrade.report.gradescope import render_gradescope

    return render_gradescope(result)


def _gradescope_hidden(result: GradeResult) -> str:
    from dlgrade.report.gradescope import render_gradescope_hidden

    return render_gradescope_hidden(result)


def _markdown(result: GradeResult) -> str:
    from dlgrade.report.markdown import render_markdown

    return render_markdown(result)


def _html(result: GradeResult) -> str:
    from dlgrade.report.html import render_html

    return render_html(result)


# Format name -> renderer. The CLI's --format choices are these keys.
FORMATS: dict[str, Renderer] = {
    "table": _table,
    "json": _json,
    "junit": _junit,
    "gradescope": _gradescope,
    "gradescope-hidden": _gradescope_hidden,
    "markdown": _markdown,
    "html": _html,
}
