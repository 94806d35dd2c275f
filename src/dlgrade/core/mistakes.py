"""Known mistakes: course data beside the model solutions, read from their header lines.

`mistakes/<module>/<name>.py` holds only the wrong definitions; run, it is appended to the
model solution of its module (its definitions win). Instructor-only, like `reference/`: no
student bundle, zip or notebook release carries it (docs/mistakes.md). Its header says what
grading must do with it (`# loses:`, `# caught by:`, ... read by the project's tests) and, for a
misconception, what it is called and what it teaches:

    # mistake: <what the code does wrong, in a few words>
    # teaches: <the sentence that puts it right>

A failing exercise whose outputs match a named mistake's on every failing case says so
(engine.diagnosis). Rule-breaking or hostile variants carry no name and are never run there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOSES = re.compile(r"^# loses:\s*(.+)$", re.MULTILINE)
CAUGHT = re.compile(r"^# caught by:\s*(\w+):\s*(.+?)\s*$", re.MULTILINE)
MODULE = re.compile(r"^# module:\s*(\w+)$", re.MULTILINE)
NAME = re.compile(r"^# mistake:(.*)$", re.MULTILINE)
TEACHES = re.compile(r"^# teaches:(.*)$", re.MULTILINE)
NAME_CHARS = 90  # a name is one short line; the teaching sentence may be longer
TEACH_CHARS = 200


@dataclass(frozen=True)
class Mistake:
    """One known mistake: its file, the module it overrides, the exercises it loses, its name."""

    path: Path
    module: str
    loses: tuple[str, ...]
    name: str = ""  # empty: not a misconception (a rule broken, an attack): never matched
    teaches: str = ""

    @property
    def id(self) -> str:
        return f"{self.module}/{self.path.stem}"

    def source(self, model_solution: str) -> str:
        """The module it stands for: the model solution with its definitions appended."""
        return model_solution + f"\n\n# --- appended from {self.path.name} ---\n" + self.path.read_text()


def parse(path: Path) -> Mistake:
    """The mistake in `path`; ValueError naming the file and the line when its header is wrong."""
    text = path.read_text()
    problems = header_problems(text)
    if problems:
        raise ValueError(f"{path}: {problems[0]}")
    loses, module = LOSES.search(text), MODULE.search(text)
    assert loses is not None  # header_problems checked it
    names, teaches = NAME.findall(text), TEACHES.findall(text)
    return Mistake(
        path,
        module.group(1) if module else path.parent.name,
        tuple(x.strip() for x in loses.group(1).split(",")),
        names[0].strip() if names else "",
        teaches[0].strip() if teaches else "",
    )


def header_problems(text: str) -> list[str]:
    """What is wrong with a mistake file's header lines (empty when nothing is)."""
    out = []
    if LOSES.search(text) is None:
        out.append("no '# loses: exercise, ...' line")
    if not CAUGHT.search(text):
        out.append("no '# caught by: exercise: check name' line")
    names, teaches = NAME.findall(text), TEACHES.findall(text)
    if len(names) > 1 or len(teaches) > 1:
        out.append("more than one '# mistake:' or '# teaches:' line")
    if bool(names) != bool(teaches):
        out.append("'# mistake:' and '# teaches:' go together (a name and a teaching sentence)")
    for label, values, most in (("mistake", names, NAME_CHARS), ("teaches", teaches, TEACH_CHARS)):
        for v in values:
            if not v.strip() or not v.startswith(" "):
                out.append(f"'# {label}:' needs a space and words after it")
            elif len(v.strip()) > most:
                out.append(f"'# {label}:' is over {most} characters")
    return out


def in_folder(folder: Path, module: str | None = None) -> list[Mistake]:
    """Every mistake under `folder` (mistakes/), or those of one module, in name order."""
    out = [parse(p) for p in sorted(folder.glob("*/*.py"))]
    return [m for m in out if module is None or m.module == module]


def named_for(folder: Path, exercise: str, module: str) -> list[Mistake]:
    """The named mistakes of `module` that lose `exercise`: the ones a diagnosis tries."""
    found = (parse(p) for p in sorted((folder / module).glob("*.py")))
    return [m for m in found if m.name and m.module == module and exercise in m.loses]
