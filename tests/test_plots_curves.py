"""`grade --plots DIR` for topics `activations` and `init`: real PNGs, checked by their pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlgrade.core.manifest import Course
from dlgrade.plots.curves import INIT_COLOURS
from dlgrade.plots.draw import FITTED_CURVE, TRUE_CURVE, write_plots
from tests.support import ROOT, variant, with_appended

matplotlib_image = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgb  # noqa: E402 - after the importorskip

NAMES = [
    "prelu_backward.png",
    "tanh_backward.png",
    "swish_backward.png",
    "layer_variances.png",
    "gradient_variances.png",
]


def _share_of(path: Path, colour: str, tol: float = 0.05) -> float:
    pixels = matplotlib_image.imread(path)[..., :3]
    return float((np.abs(pixels - np.asarray(to_rgb(colour))).max(axis=-1) < tol).mean())


@pytest.fixture(scope="module")
def reference_plots(tmp_path_factory, course: Course) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("curves")
    return folder, write_plots(course, "reference", ("activations", "init"), folder)


def test_reference_plots_are_written(reference_plots) -> None:
    folder, lines = reference_plots
    assert lines == [f"wrote {folder / n}" for n in NAMES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", NAMES[:3])
def test_activation_plots_draw_both_curves(reference_plots, name: str) -> None:
    folder, _ = reference_plots
    for colour in (TRUE_CURVE, FITTED_CURVE):
        assert _share_of(folder / name, colour) > 0.002, colour


def test_variance_plot_draws_all_four_initialisations(reference_plots) -> None:
    folder, _ = reference_plots
    for init, colour in INIT_COLOURS.items():
        assert _share_of(folder / "layer_variances.png", colour, tol=0.08) > 0.001, init


def test_stubs_are_listed_as_not_plotted(course: Course, tmp_path) -> None:
    lines = write_plots(course, str(ROOT / "exercises"), ("tanh_backward", "layer_variances"), tmp_path)
    assert len(lines) == 2 and all("not plotted" in line and "NotImplementedError" in line for line in lines)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_derivative_is_drawn_as_it_is(course: Course, tmp_path) -> None:
    """tanh's derivative taken as y (1 - y): the red curve leaves the green one."""
    v = variant("activations", "tanh_backward_derivative_of_sigmoid")
    folder = with_appended(course, v.module, v.path, tmp_path / "sub")
    lines = write_plots(course, str(folder), ("tanh_backward",), tmp_path / "plots")
    assert lines == [f"wrote {tmp_path / 'plots' / 'tanh_backward.png'}"]
    assert _share_of(tmp_path / "plots" / "tanh_backward.png", FITTED_CURVE) > 0.002
