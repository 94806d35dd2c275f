"""The course digests a grading takes before and after: a kept digest never hides a change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dlgrade.core.manifest import load_course
from dlgrade.engine import integrity
from tests.courses import course_copy


def test_a_file_rewritten_with_its_size_and_mtime_kept_is_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "SETTLED_S", 0.0)  # keep every digest: the case the cache serves
    course = load_course(course_copy(tmp_path))
    before = integrity.digests(course)
    target = course.reference_dir() / "stability.py"
    assert integrity._KNOWN[str(target)][1] == before[str(target)]
    st = target.stat()
    text = target.read_bytes()
    target.write_bytes(text.replace(b"return", b"retur_", 1))  # same size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime: only the ctime tells
    while target.stat().st_ctime_ns == st.st_ctime_ns:  # the same coarse tick as the copy: wait one
        time.sleep(0.005)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert integrity.changes(course, before).endswith("reference/stability.py")


def test_a_file_changed_just_before_it_was_hashed_is_not_kept(tmp_path: Path) -> None:
    course = load_course(course_copy(tmp_path))
    fresh = course.reference_dir() / "stability.py"
    fresh.write_bytes(fresh.read_bytes() + b"\n")
    integrity.digests(course)
    assert str(fresh) not in integrity._KNOWN
