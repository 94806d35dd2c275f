"""Text as a person is shown it: no control character, escape sequence or invisible format
character of a student's (ids, file names, messages, prints, roster names) reaches a terminal
or a text report.

Every reporter and every echo of such text goes through `printable`. It maps one character to
one, so a rich Text's styles stay where they were: C0 controls become their visible pictures
(ESC is shown as ␛), DEL ␡, and the rest (C1 controls, bidirectional overrides such as U+202E,
zero-width and other format characters, line and paragraph separators, lone surrogates,
unassigned code points) U+FFFD. Only the characters named in `keep` pass (say newline and tab,
where the sink shows several lines).
"""

from __future__ import annotations

import unicodedata

REPLACEMENT = "\ufffd"
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Cn"})


def _shown(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


def printable(text: str, keep: str = "") -> str:
    """`text` with every character a terminal would act on, or not show, made visible."""
    if text.isprintable():
        return text
    return "".join(ch if ch in keep or unicodedata.category(ch) not in _HIDDEN else _shown(ch) for ch in text)


def lines(text: str) -> str:
    """`printable` for a sink that shows several lines: newline and tab pass."""
    return printable(text, keep="\n\t")
