"""agentreel: observability and replay backend for AI-agent runs."""

from agentreel.core.version import __version__

__all__ = ["__version__"]
