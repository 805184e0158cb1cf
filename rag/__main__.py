"""`python -m rag` runs the `citechat` command."""

from rag.cli import run

run()
