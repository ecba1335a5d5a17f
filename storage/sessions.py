"""Sessions: runs that share a session id (``session.id``, ``gen_ai.conversation.id`` or
OpenLLMetry's ``session_id`` association property) are one conversation to the user.

The session id is a column of the one per-run table (``runs.session``, filled from the spans
since migration 1), so a session's figures are sums over its runs: no table of its own to keep
in step. Runs are merged ``FINAL`` in a subquery and only then filtered and grouped by session:
a run whose session id arrives on a later span than its first is counted whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import queries
from .runtable import AGENT, IS_RUN, SERVICE

#: Sessions one page lists at most.
MAX_PAGE = 500
#: The longest session id the API looks up (ids are the caller's own strings).
MAX_SESSION_CHARS = 256

#: A run's figures a session sums, from ``runs FINAL`` (one merged row per run).
_RUNS = f"""
    SELECT trace_id, start_time AS start, end_time AS end, session AS session_,
        {AGENT} AS agent_, {SERVICE} AS service_, user AS user_, environment AS environment_,
        models AS models_, providers AS providers_, errors, cost_usd, llm_calls, total_tokens,
        spans, setup_spans
    FROM runs FINAL WHERE project = {{project:String}}
"""


#: What a session's runs may be filtered on: the run list's exact matches.
_RUN_CONDITIONS = {k: v for k, v in queries.RUN_CONDITIONS.items() if k != "session"}

_SESSION_FIGURES = """
    session_,
    count() AS runs,
    countIf(errors > 0) AS failed_runs,
    min(start) AS first_start,
    max(start) AS last_start,
    max(end) AS last_end,
    sum(cost_usd) AS cost,
    sum(llm_calls) AS calls,
    sum(total_tokens) AS tokens,
    arraySort(groupUniqArrayIf(agent_, agent_ != '')) AS agents,
    arraySort(groupUniqArrayIf(user_, user_ != '')) AS users
"""


@dataclass(frozen=True)
class SessionFilter:
    project: str
    #: Sessions with a run started in ``[since, until)``; their figures cover all their runs.
    since_ns: int | None = None
    until_ns: int | None = None
    #: Text in the session id (case-insensitive).
    q: str | None = None
    #: Sessions with a run of this service, agent, user, model, provider or environment.
    service: str | None = None
    agent: str | None = None
    user: str | None = None
    model: str | None = None
    provider: str | None = None
    environment: str | None = None
    limit: int = 50
    offset: int = 0


def list_sessions(client: Any, f: SessionFilter) -> dict[str, Any]:
    """One page of sessions, the most recently active first."""
    queries.check_page(f.limit, f.offset, MAX_PAGE)
    having, params = [], {"project": f.project, "limit": f.limit, "offset": f.offset}
    if f.since_ns is not None:
        having.append("last_start >= fromUnixTimestamp64Nano({since:Int64}, 'UTC')")
        params["since"] = f.since_ns
    if f.until_ns is not None:
        having.append("first_start < fromUnixTimestamp64Nano({until:Int64}, 'UTC')")
        params["until"] = f.until_ns
    matches = []
    for name, condition in _RUN_CONDITIONS.items():
        if getattr(f, name) is not None:
            matches.append(condition)
            params[name] = getattr(f, name)
    if matches:
        having.append(f"countIf({' AND '.join(matches)}) > 0")
    where = f"session_ != '' AND {IS_RUN}"
    if f.q is not None:
        queries.check_search(f.q)
        where += " AND positionCaseInsensitiveUTF8(session_, {q:String}) > 0"
        params["q"] = f.q
    result = client.query(
        f"SELECT {_SESSION_FIGURES}, count() OVER () AS total_sessions FROM ({_RUNS}) "
        f"WHERE {where} GROUP BY session_ "
        f"{'HAVING ' + ' AND '.join(having) if having else ''} "
        "ORDER BY last_start DESC, session_ LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
        parameters=params,
    )
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    return {
        "sessions": [_session(r) for r in rows],
        "total": int(rows[0]["total_sessions"]) if rows else 0,
        "limit": f.limit,
        "offset": f.offset,
    }


def session_summary(client: Any, project: str, session: str) -> dict[str, Any] | None:
    """One session's figures over all its runs; None when no run carries that id."""
    result = client.query(
        f"SELECT {_SESSION_FIGURES} FROM ({_RUNS}) WHERE session_ = {{session:String}} AND {IS_RUN} "
        "GROUP BY session_",
        parameters={"project": project, "session": session},
    )
    if not result.result_rows:
        return None
    return _session(dict(zip(result.column_names, result.result_rows[0], strict=True)))


def session_runs(
    client: Any, project: str, session: str, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """The session's runs in the order they started (as the run list shows runs)."""
    run_filter = queries.RunFilter(
        project=project, session=session, descending=False, limit=limit, offset=offset
    )
    return queries.list_runs(client, run_filter)


def _session(r: dict[str, Any]) -> dict[str, Any]:
    runs, failed = int(r["runs"]), int(r["failed_runs"])
    return {
        "session": r["session_"],
        "runs": runs,
        "failed_runs": failed,
        # 'error' when any of its runs failed, like a run with any failing span
        "status": "error" if failed else "ok",
        "first_time": queries.iso(r["first_start"]),
        "last_time": queries.iso(r["last_end"]),
        "cost_usd": float(r["cost"]),
        "llm_calls": int(r["calls"]),
        "total_tokens": int(r["tokens"]),
        "agents": list(r["agents"]),
        "users": list(r["users"]),
    }
