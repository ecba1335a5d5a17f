"""Alert rules added through the API, alert history, and the figures alert rules watch.

History is a log of events per (rule, key): ``firing`` (the condition became true, or is
still true after the cooldown), ``resolved``, ``delivered`` and ``delivery_failed``. An
alert is open while its latest ``firing``/``resolved`` event is ``firing``."""

from __future__ import annotations

import time
from typing import Any

import orjson

from .queries import iso
from .runtable import AGENT_GROUPED, IS_RUN_GROUPED

HISTORY_COLUMNS = (
    "project",
    "time",
    "rule",
    "key",
    "state",
    "metric",
    "value",
    "threshold",
    "message",
    "delivery",
)


def stored_rules(client: Any, project: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(project, rule body)`` of the rules added through the API and not deleted."""
    where = "WHERE project = {p:String}" if project is not None else ""
    result = client.query(
        "SELECT project, name, argMax(body, updated_at), argMax(deleted, updated_at) "
        f"FROM alert_rules {where} GROUP BY project, name ORDER BY project, name",
        parameters={"p": project} if project is not None else {},
    )
    return [(p, orjson.loads(body)) for p, _, body, deleted in result.result_rows if not deleted]


def put_rule(client: Any, project: str, name: str, body: dict[str, Any] | None) -> None:
    """Store a rule (``body``), or delete it (``None``)."""
    client.insert(
        "alert_rules",
        [[project, name, orjson.dumps(body).decode() if body else "", int(body is None),
          int(time.time() * 1000)]],
        column_names=("project", "name", "body", "deleted", "updated_at"),
    )  # fmt: skip


def add_history(client: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        client.insert(
            "alert_history",
            [[r[c] for c in HISTORY_COLUMNS] for r in rows],
            column_names=HISTORY_COLUMNS,
        )


def history(
    client: Any, project: str, limit: int = 100, rule: str | None = None
) -> list[dict[str, Any]]:
    where, params = "", {"p": project, "limit": limit}
    if rule is not None:
        where = " AND rule = {rule:String}"
        params["rule"] = rule
    result = client.query(
        f"SELECT {', '.join(HISTORY_COLUMNS[1:])} FROM alert_history "
        f"WHERE project = {{p:String}}{where} ORDER BY time DESC LIMIT {{limit:UInt32}}",
        parameters=params,
    )
    out = []
    for row in result.result_rows:
        item = dict(zip(HISTORY_COLUMNS[1:], row, strict=True))
        item["time"] = iso(item["time"])
        out.append(item)
    return out


def open_alerts(client: Any, project: str | None = None) -> list[dict[str, Any]]:
    """Alerts whose latest state is ``firing``, with the time they last fired."""
    where = "AND project = {p:String}" if project is not None else ""
    result = client.query(
        "SELECT project, rule, key, argMax(state, time) AS last, max(time), "
        "argMax(metric, time), argMax(value, time), argMax(threshold, time), "
        "argMax(message, time) FROM alert_history "
        f"WHERE state IN ('firing', 'resolved') {where} "
        "GROUP BY project, rule, key HAVING last = 'firing' ORDER BY max(time) DESC",
        parameters={"p": project} if project is not None else {},
    )
    return [
        {
            "project": p,
            "rule": r,
            "key": k,
            "since": iso(t),
            "metric": m,
            "value": v,
            "threshold": th,
            "message": msg,
        }
        for p, r, k, _, t, m, v, th, msg in result.result_rows
    ]


# -- what rules watch ------------------------------------------------------------------------


def _runs(agent: str | None) -> tuple[str, dict[str, Any]]:
    having = (
        "start >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
        "AND start < fromUnixTimestamp64Nano({until:Int64}, 'UTC')"
    )
    params: dict[str, Any] = {}
    if agent is not None:
        having += " AND agent_ = {agent:String}"
        params["agent"] = agent
    sql = (
        "SELECT trace_id, min(start_time) AS start, "
        f"{AGENT_GROUPED} AS agent_, "
        "sum(cost_usd) AS cost, max(user) AS user_, "
        "sum(errors) AS errors_ FROM runs WHERE project = {p:String} "
        f"GROUP BY trace_id HAVING {IS_RUN_GROUPED} AND {having}"
    )
    return sql, params


def cost(client: Any, project: str, since_ns: int, until_ns: int, agent: str | None) -> float:
    """USD of the runs started in the range."""
    sql, params = _runs(agent)
    rows = client.query(
        f"SELECT sum(cost) FROM ({sql})",
        parameters={"p": project, "since": since_ns, "until": until_ns, **params},
    ).result_rows
    return float(rows[0][0] or 0.0)


def error_rate(
    client: Any, project: str, since_ns: int, until_ns: int, agent: str | None
) -> tuple[int, int]:
    """``(runs, failed runs)`` started in the range."""
    sql, params = _runs(agent)
    runs, failed = client.query(
        f"SELECT count(), countIf(errors_ > 0) FROM ({sql})",
        parameters={"p": project, "since": since_ns, "until": until_ns, **params},
    ).result_rows[0]
    return int(runs), int(failed)


def runs_over(
    client: Any,
    project: str,
    metric: str,
    since_ns: int,
    until_ns: int,
    agent: str | None,
    threshold: float,
) -> list[tuple[str, str, float]]:
    """``(trace id, agent, value)`` of runs started in the range whose cost (``run_cost``) or
    step count (``steps_per_run``: LLM calls, tool calls, decisions) is over the threshold."""
    sql, params = _runs(agent)
    params.update(p=project, since=since_ns, until=until_ns, threshold=threshold)
    if metric == "run_cost":
        query = f"SELECT trace_id, agent_, cost FROM ({sql}) WHERE cost > {{threshold:Float64}}"
    else:
        query = (
            "SELECT r.trace_id, r.agent_, s.steps FROM ("
            "SELECT trace_id, toFloat64(countIf((kind IN ('llm', 'tool') AND counted = 1) "
            "OR kind = 'decision')) AS steps FROM spans WHERE project = {p:String} "
            "AND start_time >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') - INTERVAL 1 DAY "
            "GROUP BY trace_id HAVING steps > {threshold:Float64}) AS s "
            f"INNER JOIN ({sql}) AS r ON r.trace_id = s.trace_id"
        )
    rows = client.query(query + " ORDER BY 3 DESC LIMIT 100", parameters=params).result_rows
    return [(str(t), str(a), float(v)) for t, a, v in rows]


def users_over(
    client: Any,
    project: str,
    since_ns: int,
    until_ns: int,
    agent: str | None,
    threshold: float,
) -> list[tuple[str, float, int]]:
    """``(user, USD, runs)`` of each user (a run's ``user.id``) whose runs started in the
    range cost more than ``threshold`` together; runs without a user are nobody's."""
    sql, params = _runs(agent)
    params.update(p=project, since=since_ns, until=until_ns, threshold=threshold)
    rows = client.query(
        f"SELECT user_, sum(cost) AS spent, count() FROM ({sql}) WHERE user_ != '' "
        "GROUP BY user_ HAVING spent > {threshold:Float64} ORDER BY spent DESC, user_ LIMIT 100",
        parameters=params,
    ).result_rows
    return [(str(u), float(v), int(n)) for u, v, n in rows]
