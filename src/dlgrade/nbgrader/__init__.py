"""`grade nbgrader` and nbgrader's autograde steps."""
