"""The dashboard's aggregate queries, all over the per-run rollup (see :mod:`.rollups`).

Every query starts from the same filtered set of runs: ``run_rollup`` grouped by trace, kept
when the run *started* in ``[since, until)`` and matches the filters. Run-level figures (runs,
failures, latency, steps) come from that set; per-model figures (cost, tokens, calls) from the
runs' ``usage`` entries, so a ``model``/``provider`` filter narrows cost to that model's calls
while run-level figures cover the runs that used it. A run's cost counts on the day it started.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .prices import PriceTable
from .queries import BadQuery, iso
from .rollups import SEP
from .scope import Scope

COST_BY = ("none", "model", "agent", "user", "provider")
FAILURES_BY = ("tool", "error_type", "agent")
ROUTING_BY = ("tool", "model", "decision")
#: The step count the dashboard draws a line at (runs above it are "over the limit").
STEP_LIMIT = 10

#: Per-run aggregate expressions over ``run_rollup``, by the name queries refer to them.
_COLUMNS = {
    "end_": "max(end_time)",
    "duration_ms": "greatest(0, toUnixTimestamp64Milli(end_) - toUnixTimestamp64Milli(start))",
    "service_": "max(service)",
    "agent_": "if(max(root_agent) != '', max(root_agent), max(any_agent))",
    "user_": "max(user)",
    "environment_": "max(environment)",
    "models_": "groupUniqArrayArray(models)",
    "providers_": "groupUniqArrayArray(providers)",
    "llm_": "sum(llm_calls)",
    "tools_": "sum(tool_calls)",
    "decisions_": "sum(decisions)",
    "errors_": "sum(errors)",
    "llm_errors_": "sum(llm_errors)",
    "tool_errors_": "sum(tool_errors)",
    "usage_": "sumMap(usage)",
    "error_counts_": "sumMap(error_counts)",
    "choices_": "sumMap(choices)",
}
_FILTER_COLUMNS = {
    "service": ("service_", "service_ = {service:String}"),
    "agent": ("agent_", "agent_ = {agent:String}"),
    "environment": ("environment_", "environment_ = {environment:String}"),
    "model": ("models_", "has(models_, {model:String})"),
    "provider": ("providers_", "has(providers_, {provider:String})"),
}


def _runs(
    scope: Scope, columns: tuple[str, ...], since_ns: int | None = None
) -> tuple[str, dict[str, Any]]:
    """``WITH runs AS (...)``: one row per matching run with ``trace_id``, ``start`` and
    ``columns``; ``since_ns`` widens the range's start (``/overview`` needs the month)."""
    wanted = list(dict.fromkeys(columns))
    having = ["start >= fromUnixTimestamp64Nano({since:Int64}, 'UTC')"]
    having.append("start < fromUnixTimestamp64Nano({until:Int64}, 'UTC')")
    params: dict[str, Any] = {
        "project": scope.project,
        "since": scope.since_ns if since_ns is None else since_ns,
        "until": scope.until_ns,
    }
    for name, value in scope.filters.items():
        column, condition = _FILTER_COLUMNS[name]
        wanted.append(column)
        having.append(condition)
        params[name] = value
    if "duration_ms" in wanted:
        wanted.insert(0, "end_")
    select = ", ".join(f"{_COLUMNS[c]} AS {c}" for c in dict.fromkeys(wanted))
    sql = (
        f"WITH runs AS (SELECT trace_id, min(start_time) AS start, {select} FROM run_rollup "
        f"WHERE project = {{project:String}} GROUP BY trace_id HAVING {' AND '.join(having)}) "
    )
    return sql, params


def _usage_join(scope: Scope) -> tuple[str, str]:
    """``ARRAY JOIN`` of a run's usage entries, and the condition keeping the entries of the
    filtered model/provider (``1`` without such filters)."""
    join = (
        "ARRAY JOIN usage_.1 AS key_, usage_.2 AS input_, usage_.3 AS output_, "
        "usage_.4 AS cache_read_, usage_.5 AS cache_write_, usage_.6 AS reasoning_, "
        "usage_.7 AS cost_, usage_.8 AS calls_, usage_.9 AS unpriced_"
    )
    keep = ["1"]
    if scope.get("model") is not None:
        keep.append("endsWith(key_, concat('\\x1f', {model:String}))")
    if scope.get("provider") is not None:
        keep.append("startsWith(key_, concat({provider:String}, '\\x1f'))")
    return join, " AND ".join(keep)


def _rows(client: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = client.query(sql, parameters=params, settings={"optimize_aggregation_in_order": 1})
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def _cost_of_runs(scope: Scope) -> str:
    """A run's cost under the filters: its calls of the filtered model/provider only."""
    _, keep = _usage_join(scope)
    if keep == "1":
        return "arraySum(usage_.7)"
    return f"arraySum(arrayMap((key_, cost_) -> if({keep}, cost_, 0), usage_.1, usage_.7))"


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
    """Today's and this month's cost against budget (UTC, up to now, under the non-time
    filters) and the range's runs, failures, p95 latency, calls and cost."""
    now = now or datetime.now(UTC)
    today = datetime.combine(now.date(), time(), UTC)
    month = today.replace(day=1)
    now_ns, today_ns, month_ns = (int(t.timestamp() * 1e9) for t in (now, today, month))
    periods = Scope(scope.project, min(scope.since_ns, month_ns), max(scope.until_ns, now_ns))
    periods = Scope(periods.project, periods.since_ns, periods.until_ns, scope.filters)
    cte, params = _runs(periods, ("duration_ms", "llm_", "tools_", "errors_", "usage_"))
    in_range = (
        "start >= fromUnixTimestamp64Nano({r_since:Int64}, 'UTC') "
        "AND start < fromUnixTimestamp64Nano({r_until:Int64}, 'UTC')"
    )
    cost = _cost_of_runs(scope)
    sql = (
        f"{cte} SELECT countIf({in_range}) AS runs, countIf({in_range} AND errors_ > 0) AS failed, "
        f"quantileExactIf(0.95)(duration_ms, {in_range}) AS p95, "
        f"sumIf(llm_, {in_range}) AS llm, sumIf(tools_, {in_range}) AS tools, "
        f"sumIf({cost}, {in_range}) AS cost, "
        f"sumIf({cost}, start >= fromUnixTimestamp64Nano({{today:Int64}}, 'UTC') "
        "AND start < fromUnixTimestamp64Nano({now:Int64}, 'UTC')) AS today_cost, "
        f"sumIf({cost}, start >= fromUnixTimestamp64Nano({{month:Int64}}, 'UTC') "
        "AND start < fromUnixTimestamp64Nano({now:Int64}, 'UTC')) AS month_cost FROM runs"
    )
    params |= {"r_since": scope.since_ns, "r_until": scope.until_ns}
    params |= {"today": today_ns, "month": month_ns, "now": now_ns}
    row = _rows(client, sql, params)[0]
    runs = int(row["runs"])
    days_in_month = ((month + timedelta(days=32)).replace(day=1) - month).days
    elapsed_days = max((now - month).total_seconds() / 86400, 1 / 24)
    month_cost = float(row["month_cost"])
    daily, monthly = budgets
    return {
        "today": {"cost_usd": float(row["today_cost"]), "budget_usd": daily or None},
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
        "cost_usd": float(row["cost"]),
        "open_alerts": [],
    }


def cost_daily(client: Any, scope: Scope, by: str, table: PriceTable) -> dict[str, Any]:
    """Cost, tokens, cache savings and calls per day and ``by`` key."""
    if by not in COST_BY:
        raise BadQuery(f"by must be one of {', '.join(COST_BY)}")
    run_key = {"agent": ("agent_",), "user": ("user_",)}.get(by, ())
    cte, params = _runs(scope, ("usage_", *run_key))
    join, keep = _usage_join(scope)
    key = {"agent": "agent_", "user": "user_"}.get(by, "''")
    sql = (
        f"{cte} SELECT toString(toDate(start)) AS day, {key} AS k, key_ AS usage_key, "
        "sum(input_) AS input, sum(output_) AS output, sum(cache_read_) AS cache_read, "
        "sum(cache_write_) AS cache_write, sum(reasoning_) AS reasoning, sum(cost_) AS cost, "
        f"sum(calls_) AS calls FROM runs {join} WHERE {keep} "
        "GROUP BY day, k, usage_key ORDER BY day, k, usage_key"
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in _rows(client, sql, params):
        provider, _, model = r["usage_key"].partition(SEP)
        k = {"model": model, "provider": provider}.get(by, r["k"])
        out = rows.setdefault((r["day"], k), _cost_row(r["day"], k))
        for field in ("input", "output", "cache_read", "cache_write", "reasoning"):
            out[f"{field}_tokens"] += int(r[field])
        out["cost_usd"] += float(r["cost"])
        out["llm_calls"] += int(r["calls"])
        out["cache_savings_usd"] += _savings(table, model, provider, r["day"], r)
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
        "sum(tool_errors_) AS tool_errors FROM runs GROUP BY day ORDER BY day"
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
            f"{cte} SELECT agent_ AS key, sum(errors_) AS errors, count() AS runs FROM runs "
            "WHERE errors_ > 0 GROUP BY key ORDER BY errors DESC, key"
        )
    else:
        tag = "tool" if by == "tool" else "type"
        cte, params = _runs(scope, ("error_counts_",))
        sql = (
            f"{cte} SELECT substring(k, {len(tag) + 2}) AS key, sum(n) AS errors, "
            "count() AS runs FROM runs ARRAY JOIN error_counts_.1 AS k, error_counts_.2 AS n "
            f"WHERE startsWith(k, '{tag}\\x1f') GROUP BY key ORDER BY errors DESC, key"
        )
    return {"rows": _rows(client, sql, params)}


def steps_histogram(client: Any, scope: Scope) -> dict[str, Any]:
    """Runs per step count (counted LLM calls + tool calls + decisions)."""
    cte, params = _runs(scope, ("llm_", "tools_", "decisions_"))
    sql = (
        f"{cte} SELECT llm_ + tools_ + decisions_ AS steps, count() AS runs FROM runs "
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
        "GROUP BY trace_id",
        f"AND trace_id IN (SELECT trace_id FROM escalation_rows WHERE {in_range}) "
        "GROUP BY trace_id",
    )
    sql = (
        f"{cte} SELECT e.time AS time, e.trace_id AS trace_id, "
        "if(e.agent != '', toString(e.agent), r.agent_) AS agent, e.reason AS reason, "
        "e.target AS target, toString(e.severity) AS severity FROM "
        f"(SELECT DISTINCT * FROM escalation_rows WHERE {in_range}) AS e "
        "INNER JOIN runs AS r ON r.trace_id = e.trace_id "
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
    if by == "model":
        cte, params = _runs(scope, ("agent_", "usage_"))
        join, keep = _usage_join(scope)
        choice, count, where = "substring(key_, position(key_, '\\x1f') + 1)", "calls_", keep
    else:
        tag = "tool" if by == "tool" else "decision"
        cte, params = _runs(scope, ("agent_", "choices_"))
        join = "ARRAY JOIN choices_.1 AS k, choices_.2 AS n"
        choice, count, where = f"substring(k, {len(tag) + 2})", "n", f"startsWith(k, '{tag}\\x1f')"
    sql = (
        f"{cte} SELECT toString(toDate(start)) AS day, agent_ AS agent, {choice} AS choice, "
        f"sum({count}) AS count FROM runs {join} WHERE {where} "
        "GROUP BY day, agent, choice ORDER BY day, agent, choice"
    )
    return {"rows": _rows(client, sql, params)}


def unknown_models(client: Any, scope: Scope) -> dict[str, Any]:
    """Models whose calls had tokens but no price (and carried no cost): never priced at 0
    silently, listed here to get an override."""
    cte, params = _runs(scope, ("usage_",))
    join, keep = _usage_join(scope)
    sql = (
        f"{cte} SELECT key_ AS k, sum(unpriced_) AS calls, min(start) AS first, max(start) AS last "
        f"FROM runs {join} WHERE {keep} AND unpriced_ > 0 GROUP BY k ORDER BY calls DESC, k"
    )
    models = []
    for r in _rows(client, sql, params):
        provider, _, model = r["k"].partition(SEP)
        models.append(
            {
                "model": model,
                "provider": provider,
                "llm_calls": int(r["calls"]),
                "first_seen": iso(r["first"]),
                "last_seen": iso(r["last"]),
            }
        )
    return {"models": models}
