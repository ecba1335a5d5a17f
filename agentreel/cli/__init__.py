"""The ``agentreel`` command: one module per command, one REST client (:mod:`.client`)."""

from agentreel.cli.main import main

__all__ = ["main"]
