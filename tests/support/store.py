"""The session's in-process store handed to code that takes a pool of store clients."""

from __future__ import annotations

from typing import Any


class StorePool:
    """Hands routes the session's store: chDB allows one store per process."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self) -> Any:
        return self.client
