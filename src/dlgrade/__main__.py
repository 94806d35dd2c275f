"""`python -m dlgrade` is the `grade` command."""

from dlgrade.cli import entry

if __name__ == "__main__":
    entry()
