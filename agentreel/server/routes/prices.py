"""REST routes of the price table: ``GET /api/v1/prices``, ``GET|PUT /api/v1/prices/overrides``,
``POST /api/v1/prices/reprice``. Overrides made here are the caller's project's (stored per
project, :mod:`agentreel.storage.price_overrides`); the server's price file applies to all. (``GET /api/v1/prices/unknown`` is an aggregate: it lives
with the others in :mod:`agentreel.server.routes.aggregates`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from agentreel.core.price_data import SOURCE
from agentreel.core.prices import Price, PriceError, PriceTable, parse_entries
from agentreel.server.routes import common
from agentreel.storage.aggregates import models_called
from agentreel.storage.price_overrides import ProjectPrices
from agentreel.storage.queries import BadQuery
from agentreel.storage.reprice import reprice
from agentreel.storage.scope import parse_time

#: Longest range one reprice request covers; the CLI sends a day at a time.
MAX_REPRICE_DAYS = 366


class PriceEntry(BaseModel):
    """One override, USD per 1M tokens; cache prices default to the input price, reasoning
    to the output price, the effective date to always."""

    model: str = Field(min_length=1)
    provider: str = ""
    # Strict: a JSON true/false is not a price (lax floats read it as 1/0).
    input: common.StrictFinite = Field(ge=0)
    output: common.StrictFinite = Field(ge=0)
    cache_read: common.StrictFinite | None = Field(default=None, ge=0)
    cache_write: common.StrictFinite | None = Field(default=None, ge=0)
    reasoning: common.StrictFinite | None = Field(default=None, ge=0)
    effective_from: str | None = Field(default=None, description="YYYY-MM-DD")
    source: str | None = None


def _listing(entries: list[Price]) -> dict[str, Any]:
    return {"models": [p.as_dict() for p in entries]}


def _in_force(table: PriceTable, client: Any, project: str) -> dict[str, Any]:
    """The listing of ``GET /prices``: the entries of the files, what the maintained data is,
    and for each model the project called, which layer prices it today (``unpriced`` when
    none: never a price of 0)."""
    called = []
    for row in models_called(client, project):
        price = table.lookup(row["model"], row["provider"])
        called.append(
            {
                "model": row["model"],
                "provider": row["provider"],
                "llm_calls": int(row["calls"]),
                "last_seen": row["last"].isoformat(),
                "origin": price.origin if price else "unpriced",
                "price": price.as_dict() if price else None,
            }
        )
    about = table.data.about() if table.data else {"source": SOURCE, "installed": False}
    return {**_listing(table.entries()), "data": about, "called": called}


def router(pool: common.Pool, project: Callable[[], str], prices: ProjectPrices) -> APIRouter:
    api = APIRouter(prefix="/api/v1/prices", tags=["prices"], responses=common.ERRORS)

    @api.get(
        "",
        summary="The prices in force for your project, USD per 1M: the overrides (the "
        "server's, your project's) and agentreel's corrections (each with its origin), the "
        "maintained data's release and date, and which layer prices each model you called",
    )
    def listing() -> Response:
        name = project()
        table = common.read(lambda: prices.table(name, fresh=True))
        return common.Json(common.read(lambda: _in_force(table, pool.get(), name)))

    @api.get("/overrides", summary="Your project's price overrides (what PUT replaces)")
    def project_overrides() -> Response:
        table = common.read(lambda: prices.table(project(), fresh=True))
        return common.Json(_listing(table.project_overrides))

    @api.put(
        "/overrides",
        summary="Replace your project's price overrides (a list of entries like GET /prices "
        "shows); other projects' prices are not changed",
    )
    def overrides(entries: Annotated[list[PriceEntry], Body()]) -> Response:
        try:
            data = [e.model_dump(exclude_none=True) for e in entries]
            parsed = parse_entries(data, override=True, where="body")
        except PriceError as exc:
            raise HTTPException(400, str(exc)) from None
        table = common.read(lambda: prices.set_overrides(project(), parsed))
        # New calls are priced with it at once; stored ones when `agentreel reprice` runs.
        return common.Json(_listing(table.entries()))

    @api.post(
        "/reprice", summary="Recompute your project's stored cost in a time range with its prices"
    )
    def reprice_range(
        since: Annotated[str, Body(description="ISO 8601 or epoch seconds")],
        until: Annotated[str, Body(description="ISO 8601 or epoch seconds")],
        model: Annotated[str | None, Body()] = None,
    ) -> Response:
        try:
            since_ns = parse_time("since", since)
            until_ns = parse_time("until", until, end=True)
        except BadQuery as exc:
            raise HTTPException(400, str(exc)) from None
        if since_ns is None or until_ns is None:
            raise HTTPException(400, "since and until are required")
        if until_ns <= since_ns:
            raise HTTPException(400, "until must be after since")
        if until_ns - since_ns > MAX_REPRICE_DAYS * 86_400 * 10**9:
            raise HTTPException(400, f"a reprice request covers at most {MAX_REPRICE_DAYS} days")
        name = project()
        table = common.read(lambda: prices.table(name, fresh=True))
        done = common.read(lambda: reprice(pool.get(), name, since_ns, until_ns, table, model))
        return common.Json(done.as_dict())

    return api
