"""CSV that a spreadsheet opens as text: no cell of a student's becomes a formula.

Following OWASP's CSV-injection guidance: a cell that starts with = + - @ (or their full-width
forms), tab or carriage return gets a leading single quote, and so does every such character
that follows a separator inside a cell (`bob;=2+5+cmd|' -C calc'!A0` where `;` is the list
separator), for both `,` and `;`. Every field is quoted, and control characters are made
visible (`core.printable`). Plain numbers (our scores, `-1.5`) stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from dlgrade.core.printable import printable

TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
# the start of the cell, or a separator, then spaces, then a character that starts a formula
_FORMULA = re.compile(f"(^|[,;])( *)([{re.escape(TRIGGERS)}])")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cell(text: str) -> str:
    """`text` as a cell no spreadsheet runs, whatever its list separator."""
    if _NUMBER.fullmatch(text):
        return text
    return printable(_FORMULA.sub(r"\1\2'\3", text))


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """Rows as CSV: every cell through `cell`, every field quoted, lines ending in a newline."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        out.writerow([cell(str(value)) for value in row])
    return buf.getvalue()
