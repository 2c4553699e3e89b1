"""`python -m node` runs the circle-node command line."""

from node.cli.main import app

app()
