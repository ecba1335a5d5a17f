"""REST routes of alerts: rules (``GET/POST/DELETE /api/v1/alerts``), a check now, and the
history of what fired, was delivered and resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.responses import Response

from agentreel.server.routes import common
from agentreel.signals.alerting import Alerts
from agentreel.signals.rules import METRICS, RuleError, parse_rule
from agentreel.storage import alerts as store


def router(alerts: Alerts, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)
    pool = alerts.pool

    @api.get("/api/v1/alerts", tags=["alerts"], summary="Alert rules and the alerts now open")
    def list_rules() -> Response:
        rules = common.read(lambda: alerts.rules(project()))
        return common.Json(
            {
                "rules": [r.as_dict() for r in rules],
                "open": common.read(lambda: store.open_alerts(pool.get(), project())),
                "metrics": {name: doc for name, (doc, _) in METRICS.items()},
            }
        )

    @api.post(
        "/api/v1/alerts",
        tags=["alerts"],
        summary="Add or replace an alert rule",
        responses={409: {"description": "A rule of that name comes from the alerts file"}},
    )
    def add_rule(body: Annotated[Any, Body()]) -> Response:
        try:
            rule = parse_rule(body)
        except RuleError as exc:
            raise HTTPException(400, str(exc)) from None
        if any(r.name == rule.name for r in alerts.file_rules(project())):
            raise HTTPException(409, f"name: rule {rule.name!r} comes from the alerts file")
        stored = {k: v for k, v in body.items() if k != "project"}
        common.read(lambda: store.put_rule(pool.get(), project(), rule.name, stored))
        return common.Json({"rule": rule.as_dict()})

    @api.delete(
        "/api/v1/alerts/{name}",
        tags=["alerts"],
        summary="Delete an alert rule",
        responses={409: {"description": "The rule comes from the alerts file"}},
    )
    def delete_rule(name: str) -> Response:
        if any(r.name == name for r in alerts.file_rules(project())):
            raise HTTPException(409, f"rule {name!r} comes from the alerts file; edit the file")
        found = common.read(lambda: [r for r in alerts.rules(project()) if r.name == name])
        if not found:
            raise HTTPException(404, f"no alert rule {name!r}")
        common.read(lambda: store.put_rule(pool.get(), project(), name, None))
        return common.Json({"deleted": name})

    @api.post(
        "/api/v1/alerts/check",
        tags=["alerts"],
        summary="Check the rules now (the server also does every alert_interval seconds)",
    )
    def check() -> Response:
        return common.Json({"events": common.read(lambda: alerts.check(project()))})

    @api.get("/api/v1/alerts/history", tags=["alerts"], summary="Alerts fired, delivered, resolved")
    def history(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100, rule: str | None = None
    ) -> Response:
        return common.Json(
            {"events": common.read(lambda: store.history(pool.get(), project(), limit, rule))}
        )

    return api
