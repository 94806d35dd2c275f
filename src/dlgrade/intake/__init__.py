"""Untrusted input: submission folders, archives, notebooks."""
