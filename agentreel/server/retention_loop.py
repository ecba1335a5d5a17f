"""The server's retention thread: a retention and disk cap pass (:mod:`agentreel.storage.
retention`) at start and every ``retention_interval`` seconds, never on ingestion's path."""

from __future__ import annotations

import logging
import threading
from typing import Any

from agentreel.collector.metrics import Metrics
from agentreel.settings import Settings
from agentreel.storage import retention

log = logging.getLogger("agentreel.retention")


class RetentionLoop:
    """Runs passes in a daemon thread; a failed pass is logged and the next one tries again."""

    def __init__(self, settings: Settings, pool: Any, metrics: Metrics) -> None:
        self.default_days = settings.retention_days or None
        self.rollup_days = settings.rollup_retention_days or None
        gb = settings.max_disk_gb
        self.max_bytes = int(gb * 1_000_000_000) if gb > 0 else None
        self.interval = settings.retention_interval
        self._pool = pool
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agentreel-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def once(self) -> retention.PassResult:
        client = self._pool.get()
        done = retention.run_pass(client, self.default_days, self.rollup_days, self.max_bytes)
        for _table, _partition, size in done.dropped:
            self._metrics.partitions_dropped.inc()
            self._metrics.partition_bytes_dropped.inc(size)
        self._metrics.store_bytes.set(retention.store_bytes(client))
        for project, runs in done.runs_deleted.items():
            log.info("retention: project %s: %d runs past its retention deleted", project, runs)
        if done.content_deleted:
            log.info("retention: %d content items no span refers to deleted", done.content_deleted)
        return done

    def _run(self) -> None:
        while True:
            try:
                self.once()
            except Exception:  # the next pass tries again; the server goes on
                log.exception("retention pass failed")
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
