"""The student's loop: state, hints, reset, watch, progress."""
