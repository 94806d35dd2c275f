"""Notebooks: check cells, the grading server, the IPython magic."""
