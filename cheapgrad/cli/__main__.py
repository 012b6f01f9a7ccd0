"""``python -m cheapgrad.cli``: the command line."""

from cheapgrad.cli.app import main

main()
