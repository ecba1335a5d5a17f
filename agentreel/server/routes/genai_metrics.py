"""Client-reported GenAI metrics (``GET /api/v1/metrics/genai``): what instrumented clients
counted themselves (OTLP ``gen_ai.client.token.usage`` and ``gen_ai.client.operation.duration``),
shown beside the figures agentreel derives from spans. Cumulative points are differenced per
series, delta points added up (:mod:`agentreel.storage.genai_metrics`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from agentreel.server.routes import common
from agentreel.storage import genai_metrics

_TIME = "ISO 8601 or epoch seconds"


def router(pool: common.Pool, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["metrics"], responses=common.ERRORS)

    @api.get(
        "/metrics/genai",
        summary="Client-reported GenAI metrics: tokens and call durations per model",
        description="Per provider, model and operation: input and output token sums from "
        "`gen_ai.client.token.usage`, and the count, sum (seconds) and an estimated p50 "
        "(from the histogram buckets; null when the middle falls in the open last bucket) of "
        "`gen_ai.client.operation.duration`, over points whose time is in "
        "`[since, until)`. Delta points are added up; a cumulative series counts its last "
        "point in the range minus its last point before it.",
    )
    def genai(
        since: Annotated[str | None, Query(description=f"Start of the range: {_TIME}")] = None,
        until: Annotated[str | None, Query(description=f"End of the range: {_TIME}")] = None,
    ) -> Response:
        since_ns = common.time_param("since", since) or 0
        until_ns = common.time_param("until", until)
        if until_ns is None:
            until_ns = time.time_ns() + 1
        owner = project()
        return common.Json(
            common.read(lambda: genai_metrics.summary(pool.get(), owner, since_ns, until_ns))
        )

    return api
