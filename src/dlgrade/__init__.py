"""dlgrade: auto-graded exercises for deep-learning fundamentals."""

__version__ = "0.1.0"
