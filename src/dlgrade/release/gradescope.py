"""`grade gradescope build`: the autograder zip Gradescope takes, written from the course.

At the zip's root: setup.sh and run_autograder (from dlgrade/release/autograder/), the course
(course.toml, exercises/, graders/, reference/, mistakes/; no caches, no bytecode), the engine as a
wheel in wheels/ and requirements.txt pinning torch to the version installed
here. Gradescope unpacks it into /autograder/source. Where the course has a secret, it goes
in too (.dlgrade-secret, mode 0600): Gradescope grading counts, so its draws are fresh
(dlgrade.core.secret); the zip goes to Gradescope, never to students.
"""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from pathlib import Path

from dlgrade.core import secret as course_secret
from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import Course
from dlgrade.dev.check import require_stubs
from dlgrade.release.wheel import build_engine_wheel, engine_requirements

SCRIPTS = Path(__file__).with_name("autograder")
# mistakes/: instructor-only like reference/; the autograder names them in feedback (docs/mistakes.md)
COURSE_PARTS = ("course.toml", "exercises", "graders", "reference", "mistakes")
_SKIP = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed times: the same course builds the same zip
HIDDEN_FORMAT_LINE = 'FORMAT="${DLGRADE_FORMAT:-gradescope}"'


def _add(zf: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    mode = 0o755 if executable else mode
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def course_files(course: Course) -> list[tuple[str, Path]]:
    """(name in the zip, file) for the course's parts: regular files only, no caches or bytecode."""
    out = []
    for part in COURSE_PARTS:
        path = course.root / part
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            rel = f.relative_to(course.root)
            if f.is_symlink() or f.suffix in (".pyc", ".pyo") or any(p in _SKIP for p in rel.parts):
                continue
            out.append((rel.as_posix(), f))
    return out


def run_autograder_text(hidden_until_due: bool) -> str:
    text = (SCRIPTS / "run_autograder").read_text(encoding="utf-8")
    if hidden_until_due:
        assert HIDDEN_FORMAT_LINE in text
        text = text.replace(
            HIDDEN_FORMAT_LINE, HIDDEN_FORMAT_LINE.replace(":-gradescope}", ":-gradescope-hidden}")
        )
    return text


def build_autograder(course: Course, out: Path, *, hidden_until_due: bool = False) -> Path:
    """Write the autograder zip to `out` (atomically) and return its path."""
    require_stubs(course, "the Gradescope autograder")
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        wheel = build_engine_wheel(Path(tmp))
        with zipfile.ZipFile(buf, "w") as zf:
            _add(zf, "setup.sh", (SCRIPTS / "setup.sh").read_bytes(), executable=True)
            _add(zf, "run_autograder", run_autograder_text(hidden_until_due).encode(), executable=True)
            for name, path in course_files(course):
                _add(zf, name, path.read_bytes())
            _add(zf, f"wheels/{wheel.name}", wheel.read_bytes())
            lines = [*engine_requirements(), f"./wheels/{wheel.name}"]
            _add(zf, "requirements.txt", ("\n".join(lines) + "\n").encode())
            value = course_secret.load(course.root)
            if value is not None:  # fresh draws on Gradescope (docs/grading.md, Determinism)
                _add(zf, course_secret.FILE_NAME, (value + "\n").encode(), mode=0o600)
    return write_atomic(out, buf.getvalue())
