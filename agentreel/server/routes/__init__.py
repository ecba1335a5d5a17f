"""REST routes, one module per resource, all built here from one :class:`Dependencies`.

A new route goes into the module of its resource (or a new module, added to :func:`build`);
helpers that several route modules need live in :mod:`.common`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter

from agentreel.collector.ingest import Ingest
from agentreel.collector.metrics import Metrics
from agentreel.core.prices import PriceTable
from agentreel.server.routes import (
    aggregates,
    alerts,
    common,
    genai_metrics,
    ops,
    prices,
    quality,
    replay,
    resend,
    retention,
    runs,
    sessions,
    transfer,
)
from agentreel.signals.alerting import Alerts
from agentreel.signals.judge import Judge
from agentreel.storage.client import ClientPool
from agentreel.storage.price_overrides import ProjectPrices


@dataclass(frozen=True)
class Dependencies:
    """What the routes need from the running server."""

    pool: ClientPool
    metrics: Metrics
    ingest: Ingest
    #: The calling request's project (set by the auth layer from its key).
    project: Callable[[], str]
    prices: ProjectPrices
    alerts: Alerts
    judge: Callable[[], Judge | None]
    #: The online evaluator's sample rate and how many runs of a project it has still to
    #: evaluate: ``evaluation(project) -> (rate, pending)``.
    evaluation: Callable[[str], tuple[float, int]]
    #: Daily and monthly budgets, USD (0 = none).
    budgets: Callable[[], tuple[float, float]]
    max_request_bytes: int
    #: Where the dashboard answers, for the pointer at ``/``.
    dashboard_url: str
    #: AGENTREEL_RETENTION_DAYS (None: keep forever), what a project without its own follows.
    retention_days: int | None = None

    def price_table(self) -> PriceTable:
        """The price table in force for the calling request's project."""
        return self.prices.table(self.project())


def build(deps: Dependencies) -> list[APIRouter]:
    """Every REST router, in the order they must be included."""
    return [
        ops.router(deps.pool, deps.metrics, deps.dashboard_url),
        # Before the run routes, so /api/v1/runs/import is not read as a trace id.
        transfer.router(deps.pool, deps.project, deps.max_request_bytes),
        runs.router(deps.pool, deps.project),
        sessions.router(deps.pool, deps.project),
        resend.router(deps.pool, deps.ingest, deps.project),
        replay.router(deps.pool, deps.project),
        quality.router(deps.pool, deps.project, deps.judge, deps.budgets, deps.evaluation),
        alerts.router(deps.alerts, deps.project),
        aggregates.router(deps.pool, deps.project, deps.budgets, deps.price_table),
        prices.router(deps.pool, deps.project, deps.prices),
        genai_metrics.router(deps.pool, deps.project),
        retention.router(deps.pool, deps.project, deps.retention_days),
    ]


__all__ = ["Dependencies", "build", "common"]
