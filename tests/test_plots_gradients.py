"""`grade --plots DIR` for `gradient_variances`: forward and backward side by side, real PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlgrade.core.manifest import Course
from dlgrade.plots.curves import INIT_COLOURS
from dlgrade.plots.draw import write_plots
from tests.support import ROOT

matplotlib_image = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgb  # noqa: E402 - after the importorskip


def _shares(path: Path, colour: str, tol: float = 0.08) -> tuple[float, float]:
    """The share of the left and of the right half's pixels in `colour`."""
    pixels = matplotlib_image.imread(path)[..., :3]
    hit = np.abs(pixels - np.asarray(to_rgb(colour))).max(axis=-1) < tol
    half = hit.shape[1] // 2
    return float(hit[:, :half].mean()), float(hit[:, half:].mean())


def _stub_forward(tmp_path: Path) -> Path:
    """The model solutions with layer_variances back to its stub (gradient_variances still right)."""
    folder = tmp_path / "sub"
    folder.mkdir()
    text = (ROOT / "reference" / "init.py").read_text()
    stub = (
        "\n\ndef layer_variances(init, depth=10, width=100, n=1000, seed=0):\n    raise NotImplementedError\n"
    )
    (folder / "init.py").write_text(text + stub)
    return folder


def test_reference_draws_both_halves_for_all_four_initialisations(course: Course, tmp_path) -> None:
    lines = write_plots(course, "reference", ("gradient_variances",), tmp_path)
    assert lines == [f"wrote {tmp_path / 'gradient_variances.png'}"]
    png = tmp_path / "gradient_variances.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for init, colour in INIT_COLOURS.items():
        left, right = _shares(png, colour)
        assert left > 0.001 and right > 0.001, (init, left, right)


def test_a_forward_not_started_leaves_its_panel_empty_and_the_gradient_drawn(
    course: Course, tmp_path
) -> None:
    lines = write_plots(course, str(_stub_forward(tmp_path)), ("gradient_variances",), tmp_path / "plots")
    png = tmp_path / "plots" / "gradient_variances.png"
    assert lines == [f"wrote {png}"]
    for init, colour in INIT_COLOURS.items():
        left, right = _shares(png, colour)
        assert right > 0.001 and left < right / 2, (init, left, right)  # the dotted lesson only


def test_a_stub_is_listed_as_not_plotted(course: Course, tmp_path) -> None:
    lines = write_plots(course, str(ROOT / "exercises"), ("gradient_variances",), tmp_path)
    assert len(lines) == 1 and "not plotted" in lines[0] and "NotImplementedError" in lines[0]
    assert list(tmp_path.iterdir()) == []
