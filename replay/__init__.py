"""agentreel.replay."""
