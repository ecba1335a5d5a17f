"""agentreel.storage."""
