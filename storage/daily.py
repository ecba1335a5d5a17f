"""Figures of one UTC day for the daily report: cost per agent and model, failures and
escalations (and the month so far)."""

from __future__ import annotations

from typing import Any

from .runtable import AGENT_GROUPED, IS_RUN_GROUPED


def _params(project: str, since_ns: int, until_ns: int) -> dict[str, Any]:
    return {"p": project, "since": since_ns, "until": until_ns}


_RANGE = (
    "start_time >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
    "AND start_time < fromUnixTimestamp64Nano({until:Int64}, 'UTC')"
)


def by_agent(client: Any, project: str, since_ns: int, until_ns: int) -> list[dict[str, Any]]:
    """Per agent: runs, failed runs, USD; most expensive first."""
    rows = client.query(
        "SELECT agent_, count(), countIf(errors_ > 0), sum(cost) FROM ("
        "SELECT trace_id, min(start_time) AS start, "
        f"{AGENT_GROUPED} AS agent_, "
        "sum(errors) AS errors_, sum(cost_usd) AS cost FROM runs WHERE project = {p:String} "
        f"GROUP BY trace_id HAVING {IS_RUN_GROUPED} "
        "AND start >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
        "AND start < fromUnixTimestamp64Nano({until:Int64}, 'UTC')) "
        "GROUP BY agent_ ORDER BY 4 DESC, 2 DESC",
        parameters=_params(project, since_ns, until_ns),
    ).result_rows
    return [
        {"agent": a, "runs": int(n), "failed_runs": int(f), "cost_usd": float(c)}
        for a, n, f, c in rows
    ]


def by_model(client: Any, project: str, since_ns: int, until_ns: int) -> list[dict[str, Any]]:
    """Per model: LLM calls and USD; most expensive first."""
    rows = client.query(
        "SELECT if(model != '', toString(model), toString(request_model)) AS m, count(), "
        f"sum(cost_usd) FROM spans WHERE project = {{p:String}} AND {_RANGE} "
        "AND kind = 'llm' AND counted = 1 GROUP BY m ORDER BY 3 DESC, 2 DESC",
        parameters=_params(project, since_ns, until_ns),
    ).result_rows
    return [{"model": m, "llm_calls": int(n), "cost_usd": float(c)} for m, n, c in rows]


def failures(client: Any, project: str, since_ns: int, until_ns: int) -> list[dict[str, Any]]:
    """Failing spans by kind and error type (or tool), most frequent first."""
    rows = client.query(
        "SELECT toString(kind), if(error_type != '', toString(error_type), "
        "if(tool_name != '', toString(tool_name), toString(name))) AS what, count(), "
        f"uniqExact(trace_id) FROM spans WHERE project = {{p:String}} AND {_RANGE} "
        "AND status = 'error' GROUP BY kind, what ORDER BY 3 DESC LIMIT 10",
        parameters=_params(project, since_ns, until_ns),
    ).result_rows
    return [{"kind": k, "error": w, "errors": int(n), "runs": int(r)} for k, w, n, r in rows]


def escalations(client: Any, project: str, since_ns: int, until_ns: int) -> list[dict[str, Any]]:
    """Escalations by reason and target, most frequent first."""
    rows = client.query(
        "SELECT attributes['agentreel.escalation.reason'] AS reason, "
        "attributes['agentreel.escalation.target'] AS target, count() "
        f"FROM spans WHERE project = {{p:String}} AND {_RANGE} "
        "AND (kind = 'escalation' OR mapContains(attributes, 'agentreel.escalation.reason')) "
        "GROUP BY reason, target ORDER BY 3 DESC LIMIT 10",
        parameters=_params(project, since_ns, until_ns),
    ).result_rows
    return [{"reason": r, "target": t, "count": int(n)} for r, t, n in rows]
