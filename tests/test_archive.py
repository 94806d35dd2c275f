"""Untrusted archives: every hostile zip is refused with its reason and writes nothing anywhere;
good zips and folders are found in every common layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from dlgrade.core.manifest import Course
from dlgrade.intake import archive
from dlgrade.intake.errors import SubmissionError
from dlgrade.intake.submission import find_modules, open_submission
from tests.archives import GOOD_MODULE, HOSTILE


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir())


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archive_is_refused_and_writes_nothing(course: Course, kind: str, tmp_path) -> None:
    build, reason = HOSTILE[kind]
    (tmp_path / "in").mkdir()
    (tmp_path / "work").mkdir()
    outside = tmp_path / "outside" / "escaped.txt"
    path = build(tmp_path / "in", outside)
    opening = open_submission(course, str(path), workdir=tmp_path / "work")
    with pytest.raises(SubmissionError) as caught, opening:
        pass
    message = str(caught.value)
    assert reason in message and "\n" not in message
    assert not outside.parent.exists()
    assert files_under(tmp_path / "work") == []  # the private folder is gone too
    assert [p.name for p in files_under(tmp_path)] == [path.name]


def test_declared_sizes_are_not_trusted(tmp_path) -> None:
    """The budget counts bytes really unpacked, whatever the headers say."""
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.py", b"#" * 5000)
    (tmp_path / "out").mkdir()
    with pytest.raises(archive.ArchiveError, match="more than"):
        archive.extract_zip(path, tmp_path / "out", archive.Limits(total_bytes=4000))


def _zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, b"" if name.endswith("/") else GOOD_MODULE.encode())
    return path


@pytest.mark.parametrize(
    ("names", "where"),
    [
        (["stability.py"], "."),
        (["alice/", "alice/stability.py", "__MACOSX/", "__MACOSX/._stability.py"], "alice"),
        (["alice/exercises/stability.py", "alice/exercises/helper.py"], "alice/exercises"),
        (["submission/stability.py", "result.json", "manifest.json"], "submission"),
        (["./stability.py", "docs/readme.txt"], "."),
    ],
    ids=["flat", "one-folder", "course-folder", "package", "dot-slash"],
)
def test_usual_layouts_are_found(course: Course, tmp_path, names: list[str], where: str) -> None:
    path = _zip(tmp_path / "sub.zip", names)
    with open_submission(course, str(path), workdir=tmp_path) as sub:
        (private,) = tmp_path.glob("dlgrade-sub-*")  # the one folder it was unpacked into
        assert sub.folder == private / where
        assert (sub.folder / "stability.py").read_text() == GOOD_MODULE
    assert not private.exists()


def test_folder_copies_refuse_symlinked_modules(course: Course, tmp_path) -> None:
    sneaky = tmp_path / "sneaky"
    sneaky.mkdir()
    (sneaky / "stability.py").symlink_to(course.reference_dir() / "stability.py")
    (tmp_path / "dest").mkdir()
    with pytest.raises(archive.ArchiveError, match="symlink"):
        archive.copy_modules(find_modules(course, sneaky, "sneaky"), tmp_path / "dest")
    assert files_under(tmp_path / "dest") == []


def test_folder_copies_take_only_the_modules_beside_them(course: Course, tmp_path) -> None:
    src = tmp_path / "bob" / "exercises"
    src.mkdir(parents=True)
    (src / "stability.py").write_text(GOOD_MODULE)
    (src / "helper.py").write_text("X = 1\n")
    (src / "data.bin").write_bytes(b"\0" * 100)
    (src / "cache").mkdir()
    (src / "cache" / "x.py").write_text("")
    (tmp_path / "dest").mkdir()
    archive.copy_modules(find_modules(course, tmp_path / "bob", "bob"), tmp_path / "dest")
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["helper.py", "stability.py"]
