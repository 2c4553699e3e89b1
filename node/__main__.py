"""`python -m node` runs the circle-node command line."""

from node.cli import app

app()
