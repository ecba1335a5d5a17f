"""The dashboard's aggregate queries, over the rollups (see :mod:`.rollups`).

Two sources, each where it is fast:

* run-level figures (runs, failed runs, latency, calls per run, steps, failures by agent) come
  from the per-run table ``runs`` (:mod:`.runtable`): a run counts when it *started* in
  ``[since, until)`` and matches the filters (a ``model``/``provider`` filter keeps the runs
  whose counted calls used it);
* cost, tokens, cache savings, routing and unknown models come from ``step_daily``: per UTC day
  of the call, so their time range is whole days (the days ``since`` and ``until`` fall in),
  and a ``model``/``provider`` filter keeps that model's calls. Routing by tool or decision
  has no model on its rows: ``model`` and ``provider`` filters do not narrow it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agentreel.core.prices import PriceTable

from . import runtable
from .queries import BadQuery, iso
from .scope import Scope

COST_BY = ("none", "model", "agent", "user", "provider")
FAILURES_BY = ("tool", "error_type", "agent")
ROUTING_BY = ("tool", "model", "decision")
#: Users shown by name in cost by user; the others are summed under ``OTHER_USERS``.
TOP_USERS = 25
OTHER_USERS = "(other users)"
#: The step count the dashboard draws a line at (runs above it are "over the limit").
STEP_LIMIT = 10

#: Per-run expressions over ``runs FINAL`` (its rows merged per run at read: 2-4x
#: faster than grouping by trace, measured), by the name queries refer to them.
_COLUMNS = {
    "end_": "end_time",
    "duration_ms": "greatest(0, toUnixTimestamp64Milli(end_time) - toUnixTimestamp64Milli(start_time))",
    "service_": runtable.SERVICE,
    "agent_": runtable.AGENT,
    "user_": "user",
    "environment_": "environment",
    "models_": "counted_models",
    "providers_": "providers",
    "llm_": "llm_calls",
    "tools_": "tool_calls",
    "decisions_": "decisions",
    "errors_": "errors",
    "llm_errors_": "llm_errors",
    "tool_errors_": "tool_errors",
    "error_counts_": "error_counts",
}
_FILTER_COLUMNS = {
    "service": f"{runtable.SERVICE} = {{service:String}}",
    "agent": f"{runtable.AGENT} = {{agent:String}}",
    "environment": "environment = {environment:String}",
    "model": "has(counted_models, {model:String})",
    "provider": "has(providers, {provider:String})",
}


def _runs(scope: Scope, columns: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """``WITH run_rows AS (...)``: one row per matching run with ``trace_id``, ``start`` and
    ``columns``. With ``FINAL`` the conditions apply to whole runs (after the merge)."""
    where = [
        "project = {project:String}",
        runtable.IS_RUN,
        "start_time >= fromUnixTimestamp64Nano({since:Int64}, 'UTC')",
        "start_time < fromUnixTimestamp64Nano({until:Int64}, 'UTC')",
    ]
    params: dict[str, Any] = {
        "project": scope.project,
        "since": scope.since_ns,
        "until": scope.until_ns,
    }
    for name, value in scope.filters.items():
        where.append(_FILTER_COLUMNS[name])
        params[name] = value
    select = ", ".join(f"{_COLUMNS[c]} AS {c}" for c in dict.fromkeys(columns))
    sql = (
        f"WITH run_rows AS (SELECT trace_id, start_time AS start, {select} FROM runs FINAL "
        f"WHERE {' AND '.join(where)}) "
    )
    return sql, params


def _steps(scope: Scope, dim: str) -> tuple[str, dict[str, Any]]:
    """WHERE clause and parameters selecting ``step_daily`` rows of ``dim`` (``user_daily``
    rows when ``dim`` is ``"user"``) under the scope."""
    where = [
        "project = {project:String}",
        "day >= toDate(fromUnixTimestamp64Nano({since:Int64}, 'UTC'))",
        "day <= toDate(fromUnixTimestamp64Nano({last:Int64}, 'UTC'))",
    ]
    params: dict[str, Any] = {"project": scope.project, "since": scope.since_ns}
    params["last"] = scope.until_ns - 1
    if dim != "user":
        where.append("dim = {dim:String}")
        params["dim"] = dim
    for name, value in scope.filters.items():
        if name in ("model", "provider") and dim not in ("model", "user"):
            continue
        column = {"model": "key" if dim == "model" else "model"}.get(name, name)
        where.append(f"{column} = {{{name}:String}}")
        params[name] = value
    return " AND ".join(where), params


def _rows(client: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = client.query(sql, parameters=params)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


# -- endpoints --------------------------------------------------------------------------------


def facets(client: Any, scope: Scope) -> dict[str, Any]:
    """Values seen in the time range (filters other than time do not narrow the choices)."""
    result = client.query(
        "SELECT toString(field), groupArray(value) FROM (SELECT field, value, "
        "min(first_seen) AS first, max(last_seen) AS last FROM facet_values "
        "WHERE project = {project:String} GROUP BY field, value "
        "HAVING last >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
        "AND first < fromUnixTimestamp64Nano({until:Int64}, 'UTC') ORDER BY value) GROUP BY field",
        parameters={"project": scope.project, "since": scope.since_ns, "until": scope.until_ns},
    )
    values = dict(result.result_rows)
    first, last = client.query(
        "SELECT min(first_seen), max(last_seen), count() FROM facet_values "
        "WHERE project = {project:String} AND field = 'service'",
        parameters={"project": scope.project},
    ).result_rows[0][:2]
    empty = (
        not values
        and not client.query(
            "SELECT count() FROM facet_values WHERE project = {project:String}",
            parameters={"project": scope.project},
        ).result_rows[0][0]
    )
    plural = {"service": "services", "agent": "agents", "model": "models"}
    plural |= {"provider": "providers", "environment": "environments"}
    out: dict[str, Any] = {key: list(values.get(name, [])) for name, key in plural.items()}
    out["first_time"] = None if empty else iso(first)
    out["last_time"] = None if empty else iso(last)
    return out


def overview(
    client: Any, scope: Scope, budgets: tuple[float, float], now: datetime | None = None
) -> dict[str, Any]:
    """Today's and this month's cost against budget (UTC days up to now, under the non-time
    filters) and the range's runs, failures, p95 latency, calls and cost."""
    now = now or datetime.now(UTC)
    today = now.date()
    month = today.replace(day=1)
    cte, params = _runs(scope, ("duration_ms", "llm_", "tools_", "errors_"))
    sql = (
        f"{cte} SELECT count() AS runs, countIf(errors_ > 0) AS failed, "
        "quantileExact(0.95)(duration_ms) AS p95, sum(llm_) AS llm, sum(tools_) AS tools "
        "FROM run_rows"
    )
    row = _rows(client, sql, params)[0]
    month_start = int(datetime.combine(month, time(), UTC).timestamp() * 1e9)
    until = max(scope.until_ns, int(now.timestamp() * 1e9) + 1)
    span = Scope(scope.project, min(scope.since_ns, month_start), until, scope.filters)
    where, p = _steps(span, "model")
    p |= {"r_first": _day(scope.since_ns), "r_last": _day(scope.until_ns - 1)}
    p |= {"today": today, "month": month}
    costs = _rows(
        client,
        "SELECT sumIf(cost_usd, day >= {r_first:Date} AND day <= {r_last:Date}) AS cost, "
        "sumIf(cost_usd, day = {today:Date}) AS today_cost, "
        "sumIf(cost_usd, day >= {month:Date} AND day <= {today:Date}) AS month_cost "
        f"FROM step_daily WHERE {where}",
        p,
    )[0]
    runs = int(row["runs"])
    next_month = (month + timedelta(days=32)).replace(day=1)
    days_in_month = (next_month - month).days
    month_dt = datetime.combine(month, time(), UTC)
    elapsed_days = max((now - month_dt).total_seconds() / 86400, 1 / 24)
    month_cost = float(costs["month_cost"])
    daily, monthly = budgets
    return {
        "today": {"cost_usd": float(costs["today_cost"]), "budget_usd": daily or None},
        "month": {
            "cost_usd": month_cost,
            "budget_usd": monthly or None,
            "projected_usd": month_cost / elapsed_days * days_in_month,
        },
        "runs": runs,
        "failed_runs": int(row["failed"]),
        "error_rate": int(row["failed"]) / runs if runs else 0.0,
        "p95_latency_ms": float(row["p95"]) if runs else None,
        "llm_calls": int(row["llm"]),
        "tool_calls": int(row["tools"]),
        "cost_usd": float(costs["cost"]),
        "open_alerts": [],
    }


def _day(ns: int) -> date:
    return datetime.fromtimestamp(ns / 1e9, UTC).date()


def cost_daily(client: Any, scope: Scope, by: str, prices: PriceTable) -> dict[str, Any]:
    """Cost, tokens, cache savings and calls per day of the calls and ``by`` key."""
    if by not in COST_BY:
        raise BadQuery(f"by must be one of {', '.join(COST_BY)}")
    if by == "user":
        # The most expensive users of the range by name, the rest as one row per day.
        where, params = _steps(scope, "user")
        key = (
            f"if(user IN (SELECT user FROM user_daily WHERE {where} GROUP BY user "
            f"ORDER BY sum(cost_usd) DESC, user LIMIT {TOP_USERS}), user, '{OTHER_USERS}')"
        )
        model, table = "model", "user_daily"
    else:
        key = {"agent": "agent", "model": "key", "provider": "provider"}.get(by, "''")
        where, params = _steps(scope, "model")
        model, table = "key", "step_daily"
    sql = (
        f"SELECT toString(day) AS d, {key} AS k, {model} AS m, toString(provider) AS prov, "
        "sum(input_tokens) AS input, sum(output_tokens) AS output, "
        "sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, "
        "sum(reasoning_tokens) AS reasoning, sum(cost_usd) AS cost, sum(calls) AS calls "
        f"FROM {table} WHERE {where} GROUP BY d, k, m, prov "
        # Rows moved whole to the run's agent leave all-zero sums behind.
        "HAVING calls != 0 OR abs(cost) > 1e-12 ORDER BY d, k, m, prov"
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in _rows(client, sql, params):
        out = rows.setdefault((r["d"], r["k"]), _cost_row(r["d"], r["k"]))
        for field in ("input", "output", "cache_read", "cache_write", "reasoning"):
            out[f"{field}_tokens"] += int(r[field])
        out["cost_usd"] += float(r["cost"])
        out["llm_calls"] += int(r["calls"])
        out["cache_savings_usd"] += _savings(prices, r["m"], r["prov"], r["d"], r)
    return {"rows": [rows[k] for k in sorted(rows)]}


def _cost_row(day: str, key: str) -> dict[str, Any]:
    return {
        "day": day,
        "key": key,
        "cost_usd": 0.0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "cache_savings_usd": 0.0,
        "llm_calls": 0,
    }


def _savings(table: PriceTable, model: str, provider: str, day: str, r: dict[str, Any]) -> float:
    """What cached tokens saved against paying the input price for them (cache writes that
    cost more than input count against it); 0 for a model without a price."""
    at = datetime.combine(date.fromisoformat(day), time(12), UTC)
    price = table.lookup(model, provider, at)
    if price is None:
        return 0.0
    read = int(r["cache_read"]) * (price.input - price.cache_read)
    write = int(r["cache_write"]) * (price.input - price.cache_write)
    return (read + write) / 1e6


def failures_daily(client: Any, scope: Scope) -> dict[str, Any]:
    cte, params = _runs(scope, ("errors_", "llm_errors_", "tool_errors_"))
    sql = (
        f"{cte} SELECT toString(toDate(start)) AS day, count() AS runs, "
        "countIf(errors_ > 0) AS failed_runs, sum(llm_errors_) AS llm_errors, "
        "sum(tool_errors_) AS tool_errors FROM run_rows GROUP BY day ORDER BY day"
    )
    rows = _rows(client, sql, params)
    for r in rows:
        r["error_rate"] = r["failed_runs"] / r["runs"] if r["runs"] else 0.0
    return {"rows": rows}


def failures_by(client: Any, scope: Scope, by: str) -> dict[str, Any]:
    """Error spans by tool, error type or agent, with the number of runs they hit."""
    if by not in FAILURES_BY:
        raise BadQuery(f"by must be one of {', '.join(FAILURES_BY)}")
    if by == "agent":
        cte, params = _runs(scope, ("agent_", "errors_"))
        sql = (
            f"{cte} SELECT agent_ AS key, sum(errors_) AS errors, count() AS runs FROM run_rows "
            "WHERE errors_ > 0 GROUP BY key ORDER BY errors DESC, key"
        )
    else:
        tag = "tool" if by == "tool" else "type"
        cte, params = _runs(scope, ("errors_", "error_counts_"))
        sql = (
            f"{cte} SELECT substring(k, {len(tag) + 2}) AS key, sum(n) AS errors, "
            "count() AS runs FROM run_rows ARRAY JOIN error_counts_.1 AS k, error_counts_.2 AS n "
            f"WHERE errors_ > 0 AND startsWith(k, '{tag}\\x1f') GROUP BY key "
            "ORDER BY errors DESC, key"
        )
    return {"rows": _rows(client, sql, params)}


def steps_histogram(client: Any, scope: Scope) -> dict[str, Any]:
    """Runs per step count (counted LLM calls + tool calls + decisions)."""
    cte, params = _runs(scope, ("llm_", "tools_", "decisions_"))
    sql = (
        f"{cte} SELECT llm_ + tools_ + decisions_ AS steps, count() AS runs FROM run_rows "
        "GROUP BY steps ORDER BY steps"
    )
    buckets = _rows(client, sql, params)
    over = sum(b["runs"] for b in buckets if b["steps"] > STEP_LIMIT)
    return {"buckets": buckets, "limit": STEP_LIMIT, "over_limit": over}


def escalations(client: Any, scope: Scope, limit: int) -> dict[str, Any]:
    """Escalations to humans in the range, newest first; the run's agent when the escalating
    span names none. Run-level filters apply to the escalation's run."""
    if not 1 <= limit <= 1000:
        raise BadQuery("limit must be between 1 and 1000")
    agent = scope.get("agent")
    others = {k: v for k, v in scope.filters.items() if k != "agent"}
    run_scope = Scope(scope.project, 0, 2**62, others)
    cte, params = _runs(run_scope, ("agent_",))
    in_range = (
        "project = {project:String} AND time >= fromUnixTimestamp64Nano({e_since:Int64}, 'UTC') "
        "AND time < fromUnixTimestamp64Nano({e_until:Int64}, 'UTC')"
    )
    cte = cte.replace(
        "WHERE project = {project:String}",
        "WHERE project = {project:String} "
        f"AND trace_id IN (SELECT trace_id FROM escalation_rows WHERE {in_range})",
        1,
    )
    sql = (
        f"{cte} SELECT e.time AS time, e.trace_id AS trace_id, "
        "if(e.agent != '', toString(e.agent), r.agent_) AS agent, e.reason AS reason, "
        "e.target AS target, toString(e.severity) AS severity FROM "
        f"(SELECT DISTINCT * FROM escalation_rows WHERE {in_range}) AS e "
        "INNER JOIN run_rows AS r ON r.trace_id = e.trace_id "
        f"{'WHERE agent = {agent:String} ' if agent is not None else ''}"
        "ORDER BY time DESC, trace_id LIMIT {limit:UInt32}"
    )
    params |= {"e_since": scope.since_ns, "e_until": scope.until_ns, "limit": limit}
    if agent is not None:
        params["agent"] = agent
    rows = _rows(client, sql, params)
    for r in rows:
        r["time"] = iso(r["time"])
    return {"rows": rows}


def routing(client: Any, scope: Scope, by: str) -> dict[str, Any]:
    """How often each agent chose each tool, model or decision option, per day."""
    if by not in ROUTING_BY:
        raise BadQuery(f"by must be one of {', '.join(ROUTING_BY)}")
    where, params = _steps(scope, by)
    sql = (
        "SELECT toString(day) AS d, toString(agent) AS a, key AS choice, "
        f"sum(calls) AS count FROM step_daily WHERE {where} "
        "GROUP BY d, a, choice HAVING count != 0 ORDER BY d, a, choice"
    )
    rows = _rows(client, sql, params)
    return {"rows": [{"day": r["d"], "agent": r["a"], "choice": r["choice"], "count": r["count"]}
                     for r in rows]}  # fmt: skip


def models_called(client: Any, project: str) -> list[dict[str, Any]]:
    """Every (model, provider) the project's LLM calls named, with their call count and the
    last day seen: what the price listing says the source of (or that it has none)."""
    sql = (
        "SELECT key AS model, toString(provider) AS provider, sum(calls) AS calls, "
        "max(day) AS last FROM step_daily WHERE project = {project:String} AND dim = 'model' "
        "GROUP BY model, provider HAVING calls > 0 ORDER BY model, provider"
    )
    return _rows(client, sql, {"project": project})


def unknown_models(client: Any, scope: Scope) -> dict[str, Any]:
    """Models whose calls had tokens but no price (and carried no cost): never priced at 0
    silently, listed here to get an override. First and last seen are days."""
    where, params = _steps(scope, "model")
    sql = (
        "SELECT key AS model, toString(provider) AS provider, sum(unpriced) AS calls, "
        "min(day) AS first, max(day) AS last FROM step_daily "
        f"WHERE {where} AND unpriced != 0 GROUP BY model, provider HAVING calls > 0 "
        "ORDER BY calls DESC, model, provider"
    )
    return {
        "models": [
            {
                "model": r["model"],
                "provider": r["provider"],
                "llm_calls": int(r["calls"]),
                "first_seen": r["first"].isoformat(),
                "last_seen": r["last"].isoformat(),
            }
            for r in _rows(client, sql, params)
        ]
    }
