"""`grade --plots DIR` for `depth_gradient_norms`: a real PNG, checked by its pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlgrade.core.manifest import Course
from dlgrade.plots.depth import STACK_COLOURS
from dlgrade.plots.draw import write_plots
from tests.support import ROOT, variant, with_appended

matplotlib_image = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgb  # noqa: E402 - after the importorskip

NAME = "depth_gradient_norms.png"


def _solid(path: Path, colour: str, tol: float = 0.05) -> np.ndarray:
    """Where the image has `colour` itself (the student's line; torch's pale band is lighter),
    in the left 60 % of the picture (the legend, upper right, left out)."""
    pixels = matplotlib_image.imread(path)[..., :3]
    mask = np.abs(pixels - np.asarray(to_rgb(colour))).max(axis=-1) < tol
    return mask[:, : int(0.6 * mask.shape[1])]


def _top_row(mask: np.ndarray) -> int:
    return int(np.nonzero(mask.any(axis=1))[0].min())


@pytest.fixture(scope="module")
def reference_plot(tmp_path_factory, course: Course) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("depth")
    return folder, write_plots(course, "reference", ("depth_gradient_norms",), folder)


def test_the_reference_plot_is_written(reference_plot) -> None:
    folder, lines = reference_plot
    assert lines == [f"wrote {folder / NAME}"]
    assert [p.name for p in folder.iterdir()] == [NAME]
    assert (folder / NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_both_stacks_are_drawn_the_residual_one_above(reference_plot) -> None:
    """Log scale: the residual stack's norms at the input (about 1500) lie far above the plain
    one's (about 4), so its line reaches rows far nearer the top."""
    folder, _ = reference_plot
    plain, residual = (_solid(folder / NAME, STACK_COLOURS[s]) for s in ("plain", "residual"))
    assert plain.mean() > 0.001 and residual.mean() > 0.001
    assert _top_row(residual) < _top_row(plain) - 100


def test_the_stub_is_listed_as_not_plotted(course: Course, tmp_path) -> None:
    lines = write_plots(course, str(ROOT / "exercises"), ("depth_gradient_norms",), tmp_path)
    assert len(lines) == 1 and "not plotted" in lines[0] and "NotImplementedError" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_skip_connection_is_drawn_as_it_is(course: Course, reference_plot, tmp_path) -> None:
    """residual ignored: the student's residual line falls with the plain one, far below the
    top that the reference's (and torch's pale band) reaches."""
    v = variant("normalization", "depth_norms_residual_dropped")
    folder = with_appended(course, v.module, v.path, tmp_path / "sub")
    lines = write_plots(course, str(folder), ("depth_gradient_norms",), tmp_path / "plots")
    assert lines == [f"wrote {tmp_path / 'plots' / NAME}"]
    wrong = _solid(tmp_path / "plots" / NAME, STACK_COLOURS["residual"])
    right = _solid(reference_plot[0] / NAME, STACK_COLOURS["residual"])
    assert wrong.mean() > 0.001 and _top_row(wrong) > _top_row(right) + 100
