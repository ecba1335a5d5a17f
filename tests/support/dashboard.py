"""The dashboard app rendered with Streamlit's AppTest, for the dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import agentreel.dashboard

APP = str(Path(agentreel.dashboard.__file__).parent / "app.py")


def render(url: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    """The dashboard rendered once against ``url`` with ``query`` in its URL (no exception)."""
    monkeypatch.setenv("AGENTREEL_API_URL", url)
    monkeypatch.delenv("AGENTREEL_API_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
