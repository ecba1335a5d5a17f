"""Answers derived from a whole run (its timeline, its calls' diffs), kept while the run's
stored data stays the same.

Building a big run's timeline visits every message of every window (2,000 spans and 200
calls of 100k tokens: most of a second), and a finished run's answer never changes, yet the
run page asks for it on every open. An answer is kept with the run's *marker*
(:func:`agentreel.storage.queries.trace_marker`: span and message-event counts, last ingest
time, total cost), read before each use: a span that arrives late, a repricing or a
retention sweep changes the marker and the answer is built again. The marker costs one small
read of the trace's rows; the answer's bytes are kept, so a hit does no JSON work either."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from fastapi.responses import Response

from agentreel.server.routes import common
from agentreel.storage import queries

__all__ = ["RunCache"]

#: Answers kept (each a run's timeline or diffs, a few MB at most for a big run).
MAX_ENTRIES = 32


class RunCache:
    """An in-process LRU of JSON answers keyed by (kind, project, trace id), each valid for
    the marker it was built under."""

    def __init__(self, pool: common.Pool, max_entries: int = MAX_ENTRIES) -> None:
        self._pool = pool
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str, str], tuple[Any, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        #: Answers built and answers served from the cache, for tests and the bench.
        self.builds = 0
        self.hits = 0

    def answer(self, kind: str, project: str, trace_id: str, build: Callable[[], Any]) -> Response:
        """The JSON answer ``build()`` gives for the run as stored now; 404 when no span of
        it is stored. ``build`` runs only when the run changed since the kept answer."""
        marker = common.read(lambda: queries.trace_marker(self._pool.get(), project, trace_id))
        if marker is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        key = (kind, project, trace_id)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept[0] == marker:
                self._entries.move_to_end(key)
                self.hits += 1
                return Response(kept[1], media_type="application/json")
        body = common.Json(build()).body
        with self._lock:
            self.builds += 1
            self._entries[key] = (marker, bytes(body))
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return Response(body, media_type="application/json")
