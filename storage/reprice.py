"""Recompute stored cost after prices change (``agentreel reprice``).

For the LLM spans of a time range that carry no cost of their own (and were not served from a
recording by a re-run: those cost 0, :mod:`.costing`), the cost is computed again
with the prices in force (exactly as at ingestion, :func:`.costing.priced`). Then:

1. spans whose cost or ``cost_source`` changed are updated in place: one ``ALTER TABLE spans
   UPDATE`` reading the new values from a temporary ``Join`` table (re-inserting the rows
   instead would fire the materialized views and count the runs twice);
2. the daily rollups (``step_daily``, ``user_daily``) get, for each changed call, a row taking
   back its old cost (read before step 1) and one adding the new;
3. the per-run table (``runs``) is reconciled for those runs: what it holds is compared with
   what the spans now say, and a row carrying the difference is inserted.
   Computed from the spans, not from the change, so a run already right gets nothing.

Running it again after it completed changes nothing. If the process dies between steps 1
and 2, the daily rollups keep the old cost for that range (a known gap: step 2 is derived
from the change); the per-run table is reconciled on any later run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from agentreel.core.prices import PriceTable, Usage, model_keys

from . import stepdaily
from .costing import KEPT, priced

#: Runs reconciled per query (their ids go into an IN list).
RUNS_PER_QUERY = 5_000
#: Differences below this many USD are rounding, not corrections.
EPSILON_USD = 1e-12


@dataclass
class RepriceResult:
    """What one reprice did, for the progress line."""

    llm_spans: int = 0
    changed: int = 0
    unknown: int = 0
    runs_corrected: int = 0
    cost_before: float = 0.0
    cost_after: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reprice(
    client: Any,
    project: str,
    since_ns: int,
    until_ns: int,
    table: PriceTable,
    model: str | None = None,
) -> RepriceResult:
    """Reprice the project's LLM spans that started in ``[since_ns, until_ns)`` (of ``model``,
    matched as the price table matches names, when given)."""
    result = RepriceResult()
    rows = client.query(
        "SELECT trace_id, span_id, toString(model), toString(provider), "
        "toUnixTimestamp64Nano(start_time), input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, toString(cost_source), counted "
        "FROM spans WHERE project = {project:String} AND kind = 'llm' "
        "AND start_time >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
        "AND start_time < fromUnixTimestamp64Nano({until:Int64}, 'UTC') "
        "AND cost_source NOT IN {kept:Array(String)}",
        parameters={"project": project, "since": since_ns, "until": until_ns, "kept": list(KEPT)},
    ).result_rows
    wanted = model_keys(model)[0] if model else None
    changes: dict[tuple[str, str], tuple[float, str]] = {}
    for (
        trace_id,
        span_id,
        name,
        provider,
        start,
        i,
        o,
        cr,
        cw,
        r,
        total,
        cost,
        source,
        counted,
    ) in rows:
        if (trace_id, span_id) in changes or (wanted and wanted not in model_keys(name)):
            continue
        new_cost, new_source = priced(table, name, provider, Usage(i, o, cr, cw, r, total), start)
        result.llm_spans += 1
        result.unknown += int(not new_source and (i or o) > 0)
        if counted:
            result.cost_before += cost
            result.cost_after += new_cost
        if (new_cost, new_source) != (cost, source):
            changes[(trace_id, span_id)] = (new_cost, new_source)
    result.changed = len(changes)
    if changes:
        traces = sorted({trace for trace, _ in changes})
        # Read before the update: the step rollup's rows are moved from the old cost.
        moves = [
            row
            for i in range(0, len(traces), RUNS_PER_QUERY)
            for row in _step_moves(client, project, traces[i : i + RUNS_PER_QUERY], changes)
        ]
        _update_spans(client, project, since_ns, until_ns, changes)
        stepdaily.insert(client, moves)
        for i in range(0, len(traces), RUNS_PER_QUERY):
            result.runs_corrected += reconcile(client, project, traces[i : i + RUNS_PER_QUERY])
    return result


def _update_spans(
    client: Any,
    project: str,
    since_ns: int,
    until_ns: int,
    changes: dict[tuple[str, str], tuple[float, str]],
) -> None:
    database = client.query("SELECT currentDatabase()").result_rows[0][0]
    name = f"reprice_{uuid.uuid4().hex}"
    join = f"`{database}`.{name}"
    client.command(
        f"CREATE TABLE {join} (project String, trace_id String, span_id String, "
        "cost Float64, source String, hit UInt8) "
        "ENGINE = Join(ANY, LEFT, project, trace_id, span_id)"
    )
    try:
        client.insert(
            join,
            [[project, t, s, cost, source, 1] for (t, s), (cost, source) in changes.items()],
            column_names=("project", "trace_id", "span_id", "cost", "source", "hit"),
        )
        key = "project, trace_id, span_id"
        # Literal numbers only: a mutation runs later, without this request's parameters.
        client.command(
            f"ALTER TABLE spans UPDATE cost_usd = joinGet('{database}.{name}', 'cost', {key}), "
            f"cost_source = joinGet('{database}.{name}', 'source', {key}) "
            f"WHERE kind = 'llm' AND start_time >= fromUnixTimestamp64Nano({int(since_ns)}, 'UTC') "
            f"AND start_time < fromUnixTimestamp64Nano({int(until_ns)}, 'UTC') "
            f"AND joinGet('{database}.{name}', 'hit', {key}) = 1",
            settings={"mutations_sync": 2, "allow_nondeterministic_mutations": 1},
        )
    finally:
        client.command(f"DROP TABLE IF EXISTS {join}")


def _step_moves(
    client: Any, project: str, traces: list[str], changes: dict[tuple[str, str], tuple[float, str]]
) -> list[list[Any]]:
    """``step_daily`` rows taking back each changed call's old cost and adding its new one."""
    runs = [(project, t) for t in traces]
    roots = stepdaily.stored_roots(client, runs)
    rows: list[list[Any]] = []
    for span in stepdaily.stored_steps(client, runs):
        change = changes.get((span.trace_id, span.span_id))
        if change is None:
            continue
        agent, user = roots.get((project, span.trace_id), ("", ""))
        agent, user = span.agent or agent, span.user or user
        rows += stepdaily.rows_of(span, agent, user, sign=-1)
        span.cost_usd, span.cost_source = change
        rows += stepdaily.rows_of(span, agent, user)
    return rows


def reconcile(client: Any, project: str, traces: list[str]) -> int:
    """Make the per-run table's cost of these runs agree with their spans' cost; returns the
    number of runs that needed a correction."""
    params = {"project": project, "traces": traces}
    truth = dict(
        client.query(
            "SELECT trace_id, sum(if(c, cost, 0)) FROM (SELECT trace_id, span_id, "
            "any(counted) AS c, any(cost_usd) AS cost FROM spans WHERE project = {project:String} "
            "AND trace_id IN {traces:Array(String)} GROUP BY trace_id, span_id) GROUP BY trace_id",
            parameters=params,
        ).result_rows
    )
    held = client.query(
        "SELECT trace_id, min(start_time), sum(cost_usd) FROM runs "
        "WHERE project = {project:String} AND trace_id IN {traces:Array(String)} "
        "GROUP BY trace_id",
        parameters=params,
    ).result_rows
    rows = []
    for trace_id, start, cost in held:
        delta = truth.get(trace_id, 0.0) - cost
        if abs(delta) > EPSILON_USD:
            # Start and end are the run's own start: neutral for its min and max.
            rows.append([project, trace_id, start, start, delta])
    if rows:
        columns = ("project", "trace_id", "start_time", "end_time", "cost_usd")
        client.insert("runs", rows, column_names=columns)
    return len(rows)
