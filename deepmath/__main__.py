"""`python -m deepmath` is the `deepmath` command."""

from deepmath.cli import run

run()
