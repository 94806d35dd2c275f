"""The engine wheel a bundle ships: the running engine's files and metadata, byte-reproducible."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import dlgrade
from dlgrade.release.wheel import build_engine_wheel


def test_the_wheel_holds_the_engine_and_installs_grade(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    wheel = build_engine_wheel(tmp_path / "a")
    assert wheel.name == f"dlgrade-{dlgrade.__version__}-py3-none-any.whl"
    assert build_engine_wheel(tmp_path / "b").read_bytes() == wheel.read_bytes()
    package = Path(dlgrade.__file__).parent
    sources = {f"dlgrade/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    info = f"dlgrade-{dlgrade.__version__}.dist-info"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert sources <= names and {"dlgrade/py.typed", "dlgrade/engine/grading.ini"} <= names
        assert not [n for n in names if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]
        assert all(n.startswith(("dlgrade/", f"{info}/")) for n in names)
        assert "Requires-Dist: torch<3,>=2.2" in zf.read(f"{info}/METADATA").decode().splitlines()  # a range;
        # requirements.txt beside the wheel pins the version graded with (engine_requirements)
        assert "grade = dlgrade.cli.main:entry" in zf.read(f"{info}/entry_points.txt").decode()
        assert "Root-Is-Purelib: true" in zf.read(f"{info}/WHEEL").decode()
        record = [line.split(",") for line in zf.read(f"{info}/RECORD").decode().splitlines()]
        assert {name for name, _h, _s in record} == names
        for name, digest, size in record:
            if name == f"{info}/RECORD":
                continue
            data = zf.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data)), name
