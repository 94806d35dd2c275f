"""`grade --plots DIR`: PNGs of what a submission learned, checked down to their pixels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dlgrade.cli.main import main
from dlgrade.core.manifest import Course
from dlgrade.plots.draw import FITTED_CURVE, REGION, TRUE_CURVE, write_plots
from tests.support import ROOT, variant, with_appended

matplotlib_image = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgb  # noqa: E402 - after the importorskip


def _share_of(path: Path, rgb: tuple[float, float, float], tol: float = 0.02) -> float:
    """The share of the image's pixels within `tol` of the colour `rgb`."""
    pixels = matplotlib_image.imread(path)[..., :3]
    return float((np.abs(pixels - np.asarray(rgb)).max(axis=-1) < tol).mean())


@pytest.fixture(scope="module")
def reference_plots(tmp_path_factory, course: Course) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("plots")
    return folder, write_plots(course, "reference", ("xor", "relu_nets"), folder)


def test_reference_plots_are_written(reference_plots) -> None:
    folder, lines = reference_plots
    names = ["xor_features.png", "train_xor_mlp.png", "fit_irony_of_spec.png"]
    assert lines == [f"wrote {folder / n}" for n in names]
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no temporary files left
    for name in names:
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize("name", ["xor_features.png", "train_xor_mlp.png"])
def test_decision_regions_show_both_classes(reference_plots, name: str) -> None:
    """XOR is learned: both class colours cover a real part of the picture."""
    folder, _ = reference_plots
    class0, class1 = (_share_of(folder / name, rgb) for rgb in REGION)
    assert class0 > 0.08 and class1 > 0.08, (class0, class1)


def test_irony_plot_draws_both_curves(reference_plots) -> None:
    folder, _ = reference_plots
    for colour in (TRUE_CURVE, FITTED_CURVE):
        assert _share_of(folder / "fit_irony_of_spec.png", to_rgb(colour), tol=0.05) > 0.002, colour


def test_wrong_submissions_get_pictures_too(course: Course, tmp_path) -> None:
    """Raw features cannot separate XOR, and the picture still shows what they do separate."""
    v = variant("xor", "raw_features")
    folder = with_appended(course, v.module, v.path, tmp_path / "sub")
    lines = write_plots(course, str(folder), ("xor_features",), tmp_path / "plots")
    assert lines == [f"wrote {tmp_path / 'plots' / 'xor_features.png'}"]
    assert max(_share_of(tmp_path / "plots" / "xor_features.png", rgb) for rgb in REGION) > 0.2


def test_stubs_are_not_plotted(course: Course, tmp_path) -> None:
    lines = write_plots(course, None, ("xor", "relu_nets"), tmp_path)
    assert len(lines) == 3
    assert all(": not plotted: " in line and "NotImplementedError" in line for line in lines)
    assert list(tmp_path.iterdir()) == []


def test_cli_plots_option(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "pics"
    result = CliRunner().invoke(
        main, ["pwlinr_params", "xor_features", "--submission", "reference", "--plots", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "xor_features.png").is_file()
    assert f"wrote {out / 'xor_features.png'}" in result.stderr
    result = CliRunner().invoke(main, ["stability", "--submission", "reference", "--plots", str(out)])
    assert result.exit_code == 0
    assert "no plots for the selected exercises" in result.stderr


def test_cli_plots_without_matplotlib_is_a_usage_error(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    result = CliRunner().invoke(
        main, ["pwlinr_params", "xor_features", "--submission", "reference", "--plots", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--plots needs matplotlib" in result.stderr


def test_grading_without_plots_does_not_import_matplotlib() -> None:
    """A real `grade` process: the option costs nothing when it is not given."""
    code = (
        "import sys; from dlgrade.cli.main import main\n"
        "try:\n    main(['pwlinr_params', '--submission', 'reference'])\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
