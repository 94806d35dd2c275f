"""The hostile submissions again, graded by an unprivileged user (`nobody`) who owns the course
and the installation, as a student owns theirs: only the kernel's layers stand between the
submission and those files (the suite itself runs as root in CI).

The test builds a virtual environment that `nobody` can read (a Python outside /root, the
project installed from a copy of its sources, torch from the same pin), once per source state,
under the system's temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlgrade.core.manifest import load_course
from dlgrade.sandbox import kernel
from tests.courses import course_copy
from tests.snapshots import leaked, marked_processes, private_lines, shm_listing, tree_digest
from tests.support import ROOT, hostiles, with_appended

NOBODY = 65534
ATTACKS = (
    "forges_ready_frame",
    "forges_violation_text",
    "native_read_from_file",
    "native_write_reference",
    "native_write_graders",
    "native_write_site_packages",
    "native_write_dev_shm",
    "spawns_unsandboxed",
    "signals_grader",
    "native_floods_disk",
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to become nobody"),
    pytest.mark.skipif(kernel.landlock_abi() < 6, reason="needs Linux with Landlock ABI >= 6"),
]


def _python_for_others() -> str | None:
    """A Python of this minor version that another user can run (not one under /root)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        real = os.path.realpath(candidate)
        if os.path.exists(real) and kernel.installation_readable_by_others([os.path.dirname(real)]):
            probe = subprocess.run([real, "-c", "import venv, ensurepip"], capture_output=True)
            if probe.returncode == 0:
                return real
    return None


def _sources_key() -> str:
    h = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "src").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def nobody_env() -> Path:
    """A world-readable venv with this project installed (built once per source state)."""
    python = _python_for_others()
    if python is None:
        pytest.skip("no Python that another user can run (with venv and ensurepip)")
    home = Path(tempfile.gettempdir()) / f"dlgrade-unprivileged-{_sources_key()}"
    venv = home / "venv"
    if not (venv / ".complete").exists():
        shutil.rmtree(home, ignore_errors=True)
        source = home / "source"
        source.mkdir(parents=True)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        shutil.copytree(
            ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        constraints = ROOT / "constraints.txt"
        pin = ["-c", str(constraints)] if constraints.exists() else []
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", *pin, str(source)],
            check=True,
            timeout=1200,
        )
        (venv / ".complete").write_text("ok\n")
    return venv


@pytest.fixture(scope="module")
def students_env(nobody_env: Path) -> Iterator[Path]:
    """`nobody_env` owned by `nobody` while this module's gradings run (the student's own
    installation: writable by them), given back to root after the last one."""
    _own(nobody_env, NOBODY)
    try:
        yield nobody_env
    finally:
        _own(nobody_env, 0)


def _own(path: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if "__pycache__" not in folder:
                st = os.lstat(os.path.join(folder, name))
                out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("name", ATTACKS)
def test_hostile_submission_graded_by_nobody(students_env: Path, name: str) -> None:
    hostile = next(h for h in hostiles() if h.id == name)
    with tempfile.TemporaryDirectory(prefix="dlgrade-nobody-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        (work / "course").mkdir()
        course = load_course(course_copy(work / "course"))
        submission = with_appended(course, hostile.module, hostile.path, work / "sub")
        _own(work, NOBODY)
        before = (tree_digest(work / "course"), _listing(students_env), shm_listing())
        topic = hostile.topic(course)
        grade_cmd = [str(students_env / "bin" / "grade"), topic, "--submission", str(submission)]
        grade_cmd += ["--format", "json"]
        run = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *grade_cmd],
            cwd=work / "course",
            env={"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        after = (tree_digest(work / "course"), _listing(students_env), shm_listing())
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads(run.stdout)
        assert {e["id"]: e["status"] for e in result["exercises"]} == hostile.statuses(course)
        layers = result["isolation"]["layers"]
        assert set(layers) >= {"no_new_privs", "landlock", "seccomp"} and "identity" not in layers
        assert after == before
        assert marked_processes() == []
        assert leaked(run.stdout + run.stderr, private_lines(work / "course")) == []
