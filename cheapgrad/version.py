"""The package version (one place: the package, the command line and the benchmark record
read it here)."""

__version__ = "0.1.0"
