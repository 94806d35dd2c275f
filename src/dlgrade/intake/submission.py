"""Find the exercise modules a `--submission` argument points at."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core.manifest import Course
from dlgrade.intake.errors import SubmissionError

REFERENCE = "reference"


@dataclass(frozen=True)
class Submission:
    folder: Path  # holds the exercise modules (stability.py, ...)
    label: str  # how reports name it
    # A notebook's: the exercises its cells define (a student's `grade` grades those alone);
    # None for folders and zips of modules, which stand for the whole course.
    defines: tuple[str, ...] | None = None
    # A notebook's: where each line of its modules came from ("cell 4, line 3"), for messages.
    places: tuple[str, ...] = ()


def resolve_submission(course: Course, spec: str | None) -> Submission:
    """None: the course's exercises/; 'reference': the model solutions; else a folder.

    A folder holds the exercise modules itself, in `exercises/` (a course root) or in
    `submission/` (an unpacked `grade package` zip), or inside its only subfolder.
    Zip files are opened by `open_submission`.
    """
    if spec is None:
        return Submission(course.exercises_dir(), "exercises/")
    if spec == REFERENCE:
        if not course.reference_dir().is_dir():
            raise SubmissionError("this course has no model solutions (reference/); bundles have none")
        return Submission(course.reference_dir(), REFERENCE)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SubmissionError(f"submission {spec!r} does not exist")
    if path.is_file():
        raise SubmissionError(
            f"submission {spec!r} is a file; give a folder of exercise modules, "
            "a course folder, or a zip written by `grade package`"
        )
    return Submission(find_modules(course, path, spec), spec)


def find_modules(course: Course, path: Path, label: str) -> Path:
    """The folder under `path` that holds the exercise modules (symlinked folders are not entered)."""
    for candidate in _candidates(path):
        if _has_modules(candidate, course):
            return candidate
    names = ", ".join(f"{m}.py" for m in course.modules)
    raise SubmissionError(f"submission {label!r} holds none of the exercise modules ({names})")


def _candidates(path: Path) -> Iterator[Path]:
    def inside(folder: Path) -> Iterator[Path]:
        yield folder
        for sub in ("submission", "exercises"):
            if (folder / sub).is_dir() and not (folder / sub).is_symlink():
                yield folder / sub

    yield from inside(path)
    subfolders = [
        d for d in path.iterdir() if d.is_dir() and not d.is_symlink() and not d.name.startswith((".", "__"))
    ]
    if len(subfolders) == 1:
        yield from inside(subfolders[0])


def _has_modules(folder: Path, course: Course) -> bool:
    return any((folder / f"{m}.py").is_file() for m in course.modules)


@contextlib.contextmanager
def open_submission(course: Course, spec: str | None, workdir: Path | None = None) -> Iterator[Submission]:
    """The submission's folder for as long as grading needs it.

    A zip is unpacked safely first; a notebook (.ipynb, alone or in a zip that holds no
    exercise modules) becomes the modules its code cells define (`dlgrade.intake.notebook_code`).
    """
    path = Path(spec).expanduser() if spec not in (None, REFERENCE) else None
    if path is None or not path.is_file():
        yield resolve_submission(course, spec)
        return
    from dlgrade.intake import archive

    with archive.private_folder(workdir) as folder:
        if path.suffix == ".ipynb":
            modules, places = _from_notebooks(course, [path], folder, str(spec))
            yield Submission(modules, str(spec), _defined(course, modules), places)
            return
        if not archive.is_zip(path):
            raise archive.ArchiveError(f"{path.name} is not a zip archive or a notebook (.ipynb)")
        archive.extract_zip(path, folder)
        try:
            yield Submission(find_modules(course, folder, str(spec)), str(spec))
        except SubmissionError:
            notebooks = sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not p.is_symlink())
            if not notebooks:
                raise
            modules, places = _from_notebooks(course, notebooks, folder / "notebook-modules", str(spec))
            yield Submission(modules, str(spec), _defined(course, modules), places)


def _defined(course: Course, folder: Path) -> tuple[str, ...]:
    """The exercises whose functions the modules made from notebooks define, in course order."""
    import ast

    functions: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions[path.stem] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return tuple(e.id for e in course.exercises if e.function in functions.get(e.module, ()))


def _from_notebooks(
    course: Course, notebooks: list[Path], folder: Path, label: str
) -> tuple[Path, tuple[str, ...]]:
    from dlgrade.intake.notebook_code import NotebookError, notebook_modules

    modules: dict[str, set[str]] = {}
    for e in course.exercises:
        modules.setdefault(e.module, set()).add(e.function)
    try:
        sources, places = notebook_modules(notebooks, modules)
    except NotebookError as exc:
        raise SubmissionError(str(exc)) from None
    if not sources:
        names = ", ".join(sorted(f for fs in modules.values() for f in fs)[:4])
        raise SubmissionError(f"submission {label!r}: no exercise function in its notebook ({names}, ...)")
    folder.mkdir(exist_ok=True)
    for module, source in sources.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder, tuple(places)
