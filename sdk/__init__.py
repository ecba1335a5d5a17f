"""agentreel.sdk."""
