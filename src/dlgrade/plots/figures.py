"""matplotlib figures for `--plots`: one titled figure, rendered to PNG bytes (Agg, no display)."""

from __future__ import annotations

import io
from typing import Any

TRUE_CURVE, FITTED_CURVE = "#2a9d3a", "#d62728"  # what the lesson says; what the submission gives


def figure(title: str, size: tuple[float, float] = (5.2, 4.8), ncols: int = 1) -> tuple[Any, Any]:
    """(figure, axes) with the title on top; matplotlib is imported only here, on first use."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout="constrained")
    ax = fig.subplots(1, ncols)
    if ncols == 1:
        ax.set_title(title, fontsize=10)
    else:
        fig.suptitle(title, fontsize=10)
    return fig, ax


def png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()
