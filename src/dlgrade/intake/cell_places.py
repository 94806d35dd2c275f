"""A notebook's messages name its cells: `stability.py:3` in what grading says of a module
made from a notebook (a traceback's location, a forbidden call's, a NotImplementedError's)
becomes `cell 4, line 3`, from the line map `notebook_code.located_source` keeps."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Sequence

from dlgrade.core.result import GradeResult

LOCATION = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.py:([0-9]{1,7})\b")


def relocate(text: str, modules: Collection[str], places: Sequence[str]) -> str:
    """`text` with each `MODULE.py:LINE` of these modules replaced by the cell it came from."""

    def place(match: re.Match[str]) -> str:
        line = int(match.group(2))
        if match.group(1) in modules and 1 <= line <= len(places) and places[line - 1]:
            return places[line - 1]
        return match.group(0)

    return LOCATION.sub(place, text)


def relocated(result: GradeResult, modules: Collection[str], places: Sequence[str]) -> GradeResult:
    """`result` with every message's locations in these modules naming notebook cells."""

    def fix(text: str) -> str:
        return relocate(text, modules, places)

    exercises = tuple(
        dataclasses.replace(
            e,
            message=fix(e.message),
            checks=tuple(dataclasses.replace(c, message=fix(c.message)) for c in e.checks),
        )
        for e in result.exercises
    )
    return dataclasses.replace(result, exercises=exercises)
