"""Projects with a key each on one server with auth on, for the isolation and price tests."""

from __future__ import annotations

from dataclasses import dataclass

from support.liveserver import RunningServer
from support.taggedrun import TaggedRun


@dataclass
class Tenants:
    server: RunningServer
    keys: dict[str, str]
    runs: dict[str, TaggedRun]

    def headers(self, project: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[project]}"}
