"""Reporters: each turns one GradeResult into text in one format."""

from __future__ import annotations

from collections.abc import Callable

from dlgrade.core.result import GradeResult
from dlgrade.report.gradescope import render_gradescope, render_gradescope_hidden
from dlgrade.report.html import render_html
from dlgrade.report.json_report import render_json
from dlgrade.report.junit import render_junit
from dlgrade.report.markdown import render_markdown
from dlgrade.report.table import render_table

Renderer = Callable[[GradeResult], str]

# Format name -> renderer. The CLI's --format choices are these keys.
FORMATS: dict[str, Renderer] = {
    "table": lambda r: render_table(r, color=False),
    "json": render_json,
    "junit": render_junit,
    "gradescope": render_gradescope,
    "gradescope-hidden": render_gradescope_hidden,
    "markdown": render_markdown,
    "html": render_html,
}
