"""Fixtures of the SDK tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentreel import sdk

from support.liveserver import RunningServer
from support.sdkrun import connect


@pytest.fixture
def to_server(server: RunningServer) -> Iterator[RunningServer]:
    provider = connect(server.url)
    yield server
    sdk.shutdown()
    provider.shutdown()
