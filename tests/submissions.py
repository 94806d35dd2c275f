"""Folders of submissions for batch tests and the batch benchmark: correct, wrong, stub, hostile.

Submissions are real files: zips (flat, nested in a folder, or written by `grade package`
layout) and folders. Everything is built from the course's own files and the fixtures under
tests/fixtures, so it follows course.toml as topics are added.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import zipfile
from pathlib import Path

from dlgrade.core.manifest import Course
from tests.archives import HOSTILE
from tests.support import hostiles, reference_copy, variants, with_appended


def zip_folder(folder: Path, dest: Path, prefix: str = "") -> Path:
    """Zip every file of `folder` (flat), each name under `prefix`."""
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                zf.write(path, prefix + path.name)
    return dest


def stub_copy(course: Course, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for module in course.modules:
        shutil.copy(course.exercises_dir() / f"{module}.py", dest / f"{module}.py")
    return dest


def correct(course: Course, folder: Path, name: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        return zip_folder(reference_copy(course, Path(tmp)), folder / f"{name}.zip")


def correct_nested(course: Course, folder: Path, name: str) -> Path:
    """The zip a student makes by compressing their exercises/ folder."""
    with tempfile.TemporaryDirectory() as tmp:
        return zip_folder(
            reference_copy(course, Path(tmp)), folder / f"{name}.zip", prefix=f"{name}/exercises/"
        )


def wrong(course: Course, folder: Path, name: str, index: int = 0) -> Path:
    known = variants()
    v = known[index % len(known)]
    return with_appended(course, v.module, v.path, folder / name)


def stub(course: Course, folder: Path, name: str) -> Path:
    return stub_copy(course, folder / name)


def hostile_code(course: Course, folder: Path, name: str, hostile_id: str) -> Path:
    """The model solutions plus one hostile fixture (a crash, a loop, ...), zipped."""
    h = next(h for h in hostiles() if h.id == hostile_id)
    with tempfile.TemporaryDirectory() as tmp:
        return zip_folder(with_appended(course, h.module, h.path, Path(tmp)), folder / f"{name}.zip")


def hostile_archive(folder: Path, name: str, kind: str, outside: Path) -> Path:
    """One of tests/archives.HOSTILE, renamed to `name` (keeping a .zip suffix if it had one)."""
    built = HOSTILE[kind][0](folder, outside)
    return built.rename(folder / (name + built.suffix))


def mixed_batch(course: Course, folder: Path, n: int, outside: Path) -> dict[str, str]:
    """n submissions cycling through correct, wrong, stub, crash and hostile archives: id -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = itertools.cycle(["correct", "wrong", "stub", "correct_nested", "crash", "archive"])
    archives = itertools.cycle(sorted(HOSTILE))
    made = {}
    for i, kind in zip(range(n), kinds, strict=False):
        name = f"s{i:05d}"
        if kind == "correct":
            correct(course, folder, name)
        elif kind == "correct_nested":
            correct_nested(course, folder, name)
        elif kind == "wrong":
            wrong(course, folder, name, index=i)
        elif kind == "stub":
            stub(course, folder, name)
        elif kind == "crash":
            hostile_code(course, folder, name, "os_exit_in_call")
        else:
            kind = next(archives)
            hostile_archive(folder, name, kind, outside)
        made[name] = kind
    return made
