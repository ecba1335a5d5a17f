"""Operations: where to go from ``/``, liveness with store reachability (``/healthz``) and
Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agentreel.collector.metrics import Metrics
from agentreel.core.version import __version__
from agentreel.server.routes import common


def router(pool: common.Pool, metrics: Metrics, dashboard_url: str) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)

    @api.get("/", tags=["ops"], summary="What this server is and where its pages are")
    def index() -> Response:
        return common.Json(
            {
                "service": "agentreel",
                "version": __version__,
                "dashboard": dashboard_url,
                "api_docs": "/docs",
                "api": "/api/v1",
                "otlp_http": ["/v1/traces", "/v1/logs", "/v1/metrics"],
            }
        )

    @api.get("/healthz", tags=["ops"], summary="Liveness and store reachability")
    def healthz() -> Response:
        try:
            pool.get().query("SELECT 1")
        except Exception as exc:
            return common.Json({"status": "unavailable", "error": str(exc)}, status_code=503)
        return common.Json({"status": "ok"})

    @api.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        responses={200: {"description": "Prometheus text", "content": {"text/plain": {}}}},
        response_class=PlainTextResponse,
    )
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return api
