"""dlgrade: auto-graded exercises for deep-learning fundamentals."""

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext dlgrade` in a notebook: adds `%grade` (see dlgrade.notebook.magic)."""
    from dlgrade.notebook.magic import load_ipython_extension as load

    load(ipython)
