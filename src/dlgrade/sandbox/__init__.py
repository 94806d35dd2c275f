"""Sandboxed execution of student code: zygote, workers, guards, wire format."""
