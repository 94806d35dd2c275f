"""`grade similarity` on a synthetic class: a copied solution (renamed) is the top pair, the stubs'
given code is never a match, an unsafe zip is left out with its reason, and the HTML escapes."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from click.testing import CliRunner

from dlgrade.cli.main import main
from tests.support import FIXTURES, ROOT


def _student(folder: Path, name: str, stability: str | None = None) -> Path:
    dest = folder / name
    shutil.copytree(ROOT / "exercises", dest)
    if stability is not None:
        (dest / "stability.py").write_text(stability)
    return dest


def test_a_renamed_copy_is_the_top_pair_and_the_stubs_never_match(tmp_path, monkeypatch) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    model = (ROOT / "reference" / "stability.py").read_text()
    renamed = re.sub(r"\bx\b", "logits", model)
    _student(subs, "alice", model)
    _student(subs, "bob", renamed)
    _student(subs, "dave")  # untouched stubs: shares only what everyone was given
    erin = _student(subs, "erin\x1b[2K", model.replace("def logsumexp", "def logsumexp_unused"))
    (subs / "mallory.zip").write_bytes(b"not a zip at all")
    with zipfile.ZipFile(subs / "trudy.zip", "w") as zf:
        zf.writestr("../../escape.py", "x = 1\n")
    monkeypatch.chdir(ROOT)
    html = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["similarity", str(subs), "stability", "--html", str(html)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and lines[0].split()[1:4] == ["alice", "·", "bob"], lines
    assert not any("dave" in line for line in lines)
    assert "\x1b" not in result.output and "erin␛[2K" in result.stdout
    assert "not compared: mallory" in result.stderr and "not compared: trudy" in result.stderr
    page = html.read_text()
    assert "<mark>" in page and "\x1b" not in page and "def stable_softmax(" in page
    assert "\\n" not in page  # the code keeps its lines and "a reason to look at both side by side" in page
    assert not (tmp_path / "escape.py").exists() and erin.is_dir()


def test_right_but_different_solutions_are_not_flagged_against_the_model(tmp_path, monkeypatch) -> None:
    """Independent correct code shares little beyond the stubs: no pair at the default threshold."""
    subs = tmp_path / "subs"
    subs.mkdir()
    _student(subs, "model", (ROOT / "reference" / "stability.py").read_text())
    for path in sorted((FIXTURES / "right" / "stability").glob("*.py"))[:1]:
        _student(subs, path.stem, (ROOT / "exercises" / "stability.py").read_text() + "\n" + path.read_text())
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        main, ["similarity", str(subs), "stable_softmax", "--html", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "", result.stdout
