"""agentreel.dashboard."""
