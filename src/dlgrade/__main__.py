"""`python -m dlgrade` is the `grade` command."""

from dlgrade.cli.main import entry

if __name__ == "__main__":
    entry()
