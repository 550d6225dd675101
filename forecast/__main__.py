"""`python -m forecast` runs the CLI."""

from forecast.cli.app import run

run()
