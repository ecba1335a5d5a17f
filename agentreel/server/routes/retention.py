"""``GET|PUT /api/v1/retention``: how many days the caller's project keeps its runs
(:mod:`agentreel.storage.retention`); other projects' settings are not changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import Response

from agentreel.server.routes import common
from agentreel.storage import retention


def router(pool: common.Pool, project: Callable[[], str], default: int | None) -> APIRouter:
    api = APIRouter(prefix="/api/v1/retention", tags=["retention"], responses=common.ERRORS)

    @api.get(
        "",
        summary="Your project's retention: days (null: forever), its own setting and the "
        "server's default (AGENTREEL_RETENTION_DAYS)",
    )
    def show() -> Response:
        return common.Json(common.read(lambda: retention.effective(pool.get(), project(), default)))

    @api.put(
        "",
        summary="Set your project's retention in days (a whole number above 0), or null to "
        "follow the server's default; runs whose last span is older are deleted by the next pass",
    )
    def update(days: Annotated[Any, Body(embed=True)]) -> Response:
        try:
            retention.check_days(days)
        except retention.RetentionError as exc:
            raise HTTPException(400, str(exc)) from None
        name = project()
        common.read(lambda: retention.set_project_days(pool.get(), name, days))
        return common.Json(common.read(lambda: retention.effective(pool.get(), name, default)))

    return api
