"""What intake raises: one line, saying why a submission cannot be graded."""


class SubmissionError(ValueError):
    """The submission argument names nothing gradable; the message is one line."""
