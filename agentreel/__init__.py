"""agentreel: observability and replay backend for AI-agent runs."""

__version__ = "0.1.0"
