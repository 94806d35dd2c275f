"""The `grade` command: a thin click layer over the packages."""
