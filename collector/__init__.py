"""agentreel.collector."""
