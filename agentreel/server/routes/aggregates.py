"""REST routes of the dashboard's aggregates (``/api/v1/facets``, ``/overview``, ``/cost/daily``,
``/budgets``, ``/failures/...``, ``/steps/histogram``, ``/escalations``, ``/routing``).

Every route takes the shared filters (``since``, ``until``, ``service``, ``agent``, ``model``,
``provider``, ``environment``); a bad time range or a value the project never stored is a 400
naming the parameter, answered before any query runs with it.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from agentreel.core.prices import PriceTable
from agentreel.server.routes import common
from agentreel.storage import aggregates
from agentreel.storage import alerts as alert_store
from agentreel.storage.scope import Scope, check_values, make_scope

_TIME = "ISO 8601 date or time (UTC unless it says otherwise) or epoch seconds"


def router(
    pool: common.Pool,
    project: Callable[[], str],
    budgets: Callable[[], tuple[float, float]],
    prices: Callable[[], PriceTable],
) -> APIRouter:
    """``budgets`` gives (daily, monthly) USD, 0 for none; ``prices`` the table in force."""
    api = APIRouter(prefix="/api/v1", tags=["aggregates"], responses=common.ERRORS)

    def scope(
        since: Annotated[str | None, Query(description=f"Start of the range: {_TIME}")] = None,
        until: Annotated[
            str | None,
            Query(description=f"End of the range (a bare date includes that day): {_TIME}"),
        ] = None,
        service: str | None = None,
        agent: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        environment: str | None = None,
    ) -> Scope:
        filters = {"service": service, "agent": agent, "model": model}
        filters |= {"provider": provider, "environment": environment}
        checked: Scope = common.read(lambda: _checked(pool, project(), since, until, filters))
        return checked

    Filters = Annotated[Scope, Depends(scope)]

    @api.get("/facets", summary="Filter choices: services, agents, models, providers, environments")
    def facets(s: Filters) -> Response:
        return common.Json(common.read(lambda: aggregates.facets(pool.get(), s)))

    @api.get("/overview", summary="Today's and this month's cost against budget; runs, failures")
    def overview(s: Filters) -> Response:
        found = common.read(lambda: aggregates.overview(pool.get(), s, budgets()))
        # Open alerts are the project's, whatever the filters (quality's alert history).
        found["open_alerts"] = common.read(lambda: alert_store.open_alerts(pool.get(), s.project))
        return common.Json(found)

    @api.get("/cost/daily", summary="Cost, tokens, cache savings and calls per day")
    def cost_daily(
        s: Filters,
        by: Annotated[str, Query(description=" | ".join(aggregates.COST_BY))] = "none",
    ) -> Response:
        return common.Json(common.read(lambda: aggregates.cost_daily(pool.get(), s, by, prices())))

    @api.get("/budgets", summary="The daily and monthly budgets (null when none)")
    def get_budgets() -> Response:
        daily, monthly = budgets()
        return common.Json({"daily_usd": daily or None, "monthly_usd": monthly or None})

    @api.get("/failures/daily", summary="Runs, failed runs and errors per day")
    def failures_daily(s: Filters) -> Response:
        return common.Json(common.read(lambda: aggregates.failures_daily(pool.get(), s)))

    @api.get("/failures/by", summary="Errors by tool, error type or agent")
    def failures_by(
        s: Filters,
        by: Annotated[str, Query(description=" | ".join(aggregates.FAILURES_BY))] = "tool",
    ) -> Response:
        return common.Json(common.read(lambda: aggregates.failures_by(pool.get(), s, by)))

    @api.get("/steps/histogram", summary="Runs per number of steps")
    def steps(s: Filters) -> Response:
        return common.Json(common.read(lambda: aggregates.steps_histogram(pool.get(), s)))

    @api.get("/escalations", summary="Escalations to humans, newest first")
    def escalations(s: Filters, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        return common.Json(common.read(lambda: aggregates.escalations(pool.get(), s, limit)))

    @api.get("/routing", summary="Tool, model or decision choices per agent and day")
    def routing(
        s: Filters,
        by: Annotated[str, Query(description=" | ".join(aggregates.ROUTING_BY))] = "tool",
    ) -> Response:
        return common.Json(common.read(lambda: aggregates.routing(pool.get(), s, by)))

    @api.get("/prices/unknown", tags=["prices"], summary="Models called without a known price")
    def unknown(s: Filters) -> Response:
        return common.Json(common.read(lambda: aggregates.unknown_models(pool.get(), s)))

    return api


def _checked(
    pool: common.Pool, project: str, since: str | None, until: str | None, filters: dict[str, Any]
) -> Scope:
    scope = make_scope(project, since, until, filters)
    check_values(pool.get(), scope)
    return scope
