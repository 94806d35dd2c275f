"""Grading one submission: runner, pytest plugin, student proxy, answers, rules."""
