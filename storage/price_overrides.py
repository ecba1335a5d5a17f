"""Price overrides per project, stored in the store (table ``price_overrides``).

The server's price file (``prices_file``) holds the operator's overrides for every project;
``PUT /api/v1/prices/overrides`` stores the caller's project's own, which apply on top of
them for that project's calls only. They live in the store, not in a file, so every
collector process sharing the store prices with them, on chDB and on a ClickHouse server.

The writer asks for a project's table on every batch: :class:`ProjectPrices` keeps each
project's table and reads the store again only after :data:`REFRESH_SECONDS` (another
process's change is seen within that time; this process's at once).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from agentreel.core.prices import Price, PriceError, PriceTable, entries_data, parse_entries

from .costing import PriceBook

log = logging.getLogger("agentreel")

#: Seconds a project's table is used before the store is asked again.
REFRESH_SECONDS = 5.0


def read_overrides(client: Any, project: str) -> str:
    """The project's overrides as stored (a JSON list); ``""`` when it has none."""
    rows = client.query(
        "SELECT argMax(body, version) FROM price_overrides WHERE project = {project:String}",
        parameters={"project": project},
    ).result_rows
    return str(rows[0][0]) if rows else ""


def write_overrides(client: Any, project: str, entries: Iterable[Price]) -> None:
    """Replace the project's overrides (the newest row wins; the table folds the older)."""
    body = json.dumps(entries_data(entries), separators=(",", ":"))
    client.insert(
        "price_overrides",
        [[project, body, time.time_ns()]],
        column_names=("project", "body", "version"),
    )


@dataclass(frozen=True, slots=True)
class _Cached:
    read_at: float
    body: str
    table: PriceTable


class ProjectPrices:
    """Each project's price table: ``book`` (shipped prices and the server's overrides) with
    the project's stored overrides on top. ``client`` gives a store client for the calling
    thread (``ClientPool.get``)."""

    def __init__(
        self, book: PriceBook, client: Callable[[], Any], refresh: float = REFRESH_SECONDS
    ) -> None:
        self.book = book
        self._client = client
        self._refresh = refresh
        # Replaced whole per project: a reader in another thread sees an old entry or a new.
        self._cache: dict[str, _Cached] = {}

    def table(self, project: str, *, fresh: bool = False) -> PriceTable:
        """The table in force for ``project``; ``fresh`` reads the store whatever the cache."""
        now = time.monotonic()
        hit = self._cache.get(project)
        if hit is not None and not fresh and now - hit.read_at < self._refresh:
            return hit.table
        body = read_overrides(self._client(), project)
        if hit is not None and hit.body == body:
            table = hit.table  # unchanged: keep the table and its name cache
        else:
            base = self.book.table
            table = base.for_project(self._parse(project, body)) if body else base
        self._cache[project] = _Cached(now, body, table)
        return table

    def set_overrides(self, project: str, entries: Iterable[Price]) -> PriceTable:
        """Store these overrides as the project's (replacing its previous ones) and put them
        in force in this process at once."""
        write_overrides(self._client(), project, list(entries))
        return self.table(project, fresh=True)

    @staticmethod
    def _parse(project: str, body: str) -> list[Price]:
        try:
            return parse_entries(json.loads(body), override=True, where=f"project {project!r}")
        except (ValueError, PriceError) as exc:
            # Only this code writes the rows; a bad one must not stop ingestion.
            log.error("price overrides of project %r unreadable, not applied: %s", project, exc)
            return []
