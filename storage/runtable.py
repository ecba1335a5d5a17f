"""The one per-run table, ``runs``: one row per trace (AggregatingMergeTree on
``(project, trace_id)``), kept up to date by one materialized view over ``spans``.

The run list and run summaries, the dashboard's run-level figures (runs, failures, latency,
steps, failures by agent, tool and error type), the daily report, alert rules, drift and
score queries all read it, merged per run at read (``FINAL`` or ``GROUP BY trace_id``), so
a run that arrived in pieces is whole. A reprice corrects ``cost_usd`` with rows carrying
the difference (:func:`agentreel.storage.reprice.reconcile`).

Until migration 4 there were two such tables, each with its view: ``runs`` (migration 1,
the run list) and ``run_rollup`` (migration 2, what the dashboard filters and counts runs
by), with the same times, names, counts and cost computed twice at every insert, and a
reprice correcting both. Migration 4 (:func:`merge`) moves them into one table in place.
"""

from __future__ import annotations

from typing import Any

#: Columns up to ``has_root`` are the first ``runs`` table's, in its order; those after it
#: came from ``run_rollup``, but for ``lead_service``, ``lead_agent``, ``setup_spans`` and
#: ``first_error`` (migration 41) and the ``rerun_*`` columns (migration 42). ``agent`` is
#: any span's agent, ``root_agent`` the root span's;
#: ``models`` are the models of any LLM span (the run list shows and filters by them),
#: ``counted_models`` and ``providers`` those of counted calls (the dashboard filters by them).
#: ``lead_service`` and ``lead_agent`` hold the run's service and agent as the least of
#: (rank, start time, value): rank 0 for the root span, 1 for another span, 2 for a span with
#: no value. So a run's service is its root span's, and until the root arrives its earliest
#: span's; its agent the root span's, else the earliest span's that names one. (The plain
#: ``service`` and ``agent`` columns are the alphabetically last, which for a run crossing
#: two processes, an MCP client and its server, picked the server.)
#: Rows that do not set them (a reprice's correction rows, rows written before migration 41)
#: get a default that loses to every real value.
LEAD = (
    "SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) "
    "DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '')"
)

#: The run's first failure, for the run list: (start time, error type, error message) of its
#: earliest span with status error. Rows without one default to a value that loses.
_NEVER = "toDateTime64('2262-01-01 00:00:00', 9, 'UTC')"
FIRST_ERROR = (
    "SimpleAggregateFunction(min, Tuple(DateTime64(9, 'UTC'), String, String)) "
    f"DEFAULT ({_NEVER}, '', '')"
)
#: How long an error message the run list keeps (the run's spans keep it whole).
ERROR_MESSAGE_CHARS = 300

#: Re-runs (migration 42). The SDK's re-run mode puts ``agentreel.rerun.*`` on every root span
#: of the new trace; the view reads them from the spans' attribute map (no ``spans`` column:
#: only root spans carry them, nothing filters spans by them, and the view reads each span
#: once, when it is inserted). ``rerun_of`` is the original's trace id ('' for a run that is
#: not a re-run); ``rerun_from_call`` the call it went live from (0: fully offline; -1: not a
#: re-run); ``rerun_divergence`` (call, what differs) of the earliest divergence a root span
#: reports, the text cut to :data:`DIVERGENCE_CHARS` (the root span keeps it whole). Rows
#: that do not set them (a reprice's corrections, runs stored before migration 42) lose.
RERUN_OF_KEY = "agentreel.rerun.of"
RERUN_FROM_KEY = "agentreel.rerun.from_call"
DIVERGED_AT_KEY = "agentreel.rerun.diverged_at"
DIVERGENCE_KEY = "agentreel.rerun.divergence"
RERUN_OF = "SimpleAggregateFunction(max, String)"
RERUN_FROM_CALL = "SimpleAggregateFunction(max, Int64) DEFAULT -1"
#: The call number of "no divergence".
NO_DIVERGENCE = 4294967295
RERUN_DIVERGENCE = (
    f"SimpleAggregateFunction(min, Tuple(UInt32, String)) DEFAULT ({NO_DIVERGENCE}, '')"
)
DIVERGENCE_CHARS = 300

#: A run's service and agent over ``runs FINAL`` rows, and its agent over ``GROUP BY trace_id``. Rows
#: written before migration 41 have an empty lead: those runs fall back to the old columns.
SERVICE = "if(lead_service.3 != '', lead_service.3, service)"
AGENT = "if(lead_agent.3 != '', lead_agent.3, if(root_agent != '', root_agent, agent))"
#: A trace of nothing but set-up is not a run: the run list and the dashboard skip it. Set-up
#: spans are AutoGen's ``create_agent`` (a trace of its own when the agent is built) and MCP's
#: notifications (mcp 2.x traces ``notifications/initialized`` on the server, with no parent
#: when the session opened outside any span).
IS_RUN = "spans > setup_spans"
IS_RUN_GROUPED = "sum(spans) > sum(setup_spans)"
AGENT_GROUPED = (
    "if(min(lead_agent).3 != '', min(lead_agent).3, "
    "if(max(root_agent) != '', max(root_agent), max(agent)))"
)

RUNS = (
    """
CREATE TABLE IF NOT EXISTS {name} (
    project LowCardinality(String),
    trace_id String,
    start_time SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    end_time SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    root_name SimpleAggregateFunction(max, String),
    service SimpleAggregateFunction(max, String),
    agent SimpleAggregateFunction(max, String),
    session SimpleAggregateFunction(max, String),
    user SimpleAggregateFunction(max, String),
    spans SimpleAggregateFunction(sum, UInt64),
    llm_calls SimpleAggregateFunction(sum, UInt64),
    tool_calls SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens SimpleAggregateFunction(sum, UInt64),
    cache_write_tokens SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens SimpleAggregateFunction(sum, UInt64),
    total_tokens SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    has_root SimpleAggregateFunction(max, UInt8),
    root_agent SimpleAggregateFunction(max, String),
    environment SimpleAggregateFunction(max, String),
    decisions SimpleAggregateFunction(sum, UInt64),
    llm_errors SimpleAggregateFunction(sum, UInt64),
    tool_errors SimpleAggregateFunction(sum, UInt64),
    counted_models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    providers SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    -- error spans per 'tool<SEP>name' (counted tool calls) and 'type<SEP>error type'
    error_counts SimpleAggregateFunction(sumMap, Tuple(Array(String), Array(UInt64))),
    lead_service {LEAD},
    lead_agent {LEAD},
    setup_spans SimpleAggregateFunction(sum, UInt64),
    first_error {FIRST_ERROR},
    rerun_of {RERUN_OF},
    rerun_from_call {RERUN_FROM_CALL},
    rerun_divergence {RERUN_DIVERGENCE}
)
ENGINE = AggregatingMergeTree
ORDER BY (project, trace_id)
""".replace("{LEAD}", LEAD)
    .replace("{FIRST_ERROR}", FIRST_ERROR)
    .replace("{RERUN_OF}", RERUN_OF)
    .replace("{RERUN_FROM_CALL}", RERUN_FROM_CALL)
    .replace("{RERUN_DIVERGENCE}", RERUN_DIVERGENCE)
)

_LLM = "kind = 'llm' AND counted"
_TOOL = "kind = 'tool' AND counted"
#: A root span's value of a re-run key ('' on other spans, and when absent).
_ROOT = "if(parent_span_id = '', attributes['{key}'], '')"

#: What ``runs_mv`` selects: a ``runs`` row from spans, before its ``GROUP BY project, trace_id``
#: (:mod:`.rederive` runs it on stored spans).
RUN_SELECT = f"""
SELECT
    project,
    trace_id,
    min(start_time) AS start_time,
    max(end_time) AS end_time,
    max(if(parent_span_id = '', toString(name), '')) AS root_name,
    max(toString(service)) AS service,
    max(toString(agent)) AS agent,
    max(session) AS session,
    max(user) AS user,
    toUInt64(count()) AS spans,
    toUInt64(countIf({_LLM})) AS llm_calls,
    toUInt64(countIf({_TOOL})) AS tool_calls,
    toUInt64(countIf(status = 'error')) AS errors,
    sum(if(counted, input_tokens, 0)) AS input_tokens,
    sum(if(counted, output_tokens, 0)) AS output_tokens,
    sum(if(counted, cache_read_tokens, 0)) AS cache_read_tokens,
    sum(if(counted, cache_write_tokens, 0)) AS cache_write_tokens,
    sum(if(counted, reasoning_tokens, 0)) AS reasoning_tokens,
    sum(if(counted, total_tokens, 0)) AS total_tokens,
    sum(if(counted, cost_usd, 0)) AS cost_usd,
    groupUniqArrayIf(toString(model), kind = 'llm' AND model != '') AS models,
    max(parent_span_id = '') AS has_root,
    -- spans.agent: the column (plain ``agent`` is the alias above)
    max(if(parent_span_id = '', toString(spans.agent), '')) AS root_agent,
    max(toString(environment)) AS environment,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf({_LLM} AND status = 'error')) AS llm_errors,
    toUInt64(countIf({_TOOL} AND status = 'error')) AS tool_errors,
    groupUniqArrayIf(toString(model), {_LLM} AND model != '') AS counted_models,
    groupUniqArrayIf(toString(provider), {_LLM} AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND {_TOOL}, [concat('tool\\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
        ) AS error_keys,
        arrayMap(k -> toUInt64(1), error_keys)
    ) AS error_counts,
    min(tuple(toUInt8(if(spans.service = '', 2, parent_span_id != '')), spans.start_time,
              toString(spans.service))) AS lead_service,
    min(tuple(toUInt8(if(spans.agent = '', 2, parent_span_id != '')), spans.start_time,
              toString(spans.agent))) AS lead_agent,
    toUInt64(countIf(operation = 'create_agent'
                     OR startsWith(attributes['mcp.method.name'], 'notifications/'))) AS setup_spans,
    min(if(status = 'error',
           tuple(spans.start_time, toString(error_type),
                 substringUTF8(error_message, 1, {ERROR_MESSAGE_CHARS})),
           tuple({_NEVER}, '', ''))) AS first_error,
    max({_ROOT.format(key=RERUN_OF_KEY)}) AS rerun_of,
    max(if({_ROOT.format(key=RERUN_OF_KEY)} != '',
           toInt64OrDefault({_ROOT.format(key=RERUN_FROM_KEY)}, toInt64(0)),
           toInt64(-1))) AS rerun_from_call,
    min(tuple(toUInt32OrDefault({_ROOT.format(key=DIVERGED_AT_KEY)}, toUInt32({NO_DIVERGENCE})),
              substringUTF8({_ROOT.format(key=DIVERGENCE_KEY)}, 1, {DIVERGENCE_CHARS})))
        AS rerun_divergence
FROM spans
"""

RUNS_MV = (
    "\nCREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv TO runs AS"
    + RUN_SELECT
    + "GROUP BY project, trace_id\n"
)

#: What each table of a store made before migration 4 gives the merged table. Each run's
#: figures are taken once: from ``runs`` all it held, from ``run_rollup`` only what ``runs``
#: lacked (its times too, which are the same: neutral for min and max). The rows are copied
#: as they are (reprice corrections included) and merge as before.
_FROM_RUNS = (
    "project, trace_id, start_time, end_time, root_name, service, agent, session, user, spans, "
    "llm_calls, tool_calls, errors, input_tokens, output_tokens, cache_read_tokens, "
    "cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, models, has_root"
)
_FROM_ROLLUP = {
    "project": "project",
    "trace_id": "trace_id",
    "start_time": "start_time",
    "end_time": "end_time",
    "root_agent": "root_agent",
    "environment": "environment",
    "decisions": "decisions",
    "llm_errors": "llm_errors",
    "tool_errors": "tool_errors",
    "counted_models": "models",
    "providers": "providers",
    "error_counts": "error_counts",
}

#: The merged table is built under this name, then swapped with ``runs``.
_BUILDING = "runs_merged"


def merge(client: Any) -> None:
    """Migration 4: ``runs`` and ``run_rollup`` become one ``runs`` table fed by one view.

    The merged table is built aside from both tables' rows and swapped in with one
    ``EXCHANGE TABLES``; a store whose ``runs`` already has the merged columns has passed
    that point. So a migration interrupted anywhere simply runs again: before the swap it
    starts the copy over, after it only the clean-up is left. Migrations run before the
    store takes writes, so no span arrives between dropping the old views and creating the
    new one.
    """
    if not _merged(client):
        client.command("DROP VIEW IF EXISTS runs_mv")
        client.command("DROP VIEW IF EXISTS run_rollup_mv")
        client.command(f"DROP TABLE IF EXISTS {_BUILDING} SYNC")
        client.command(RUNS.format(name=_BUILDING))
        client.command(f"INSERT INTO {_BUILDING} ({_FROM_RUNS}) SELECT {_FROM_RUNS} FROM runs")
        client.command(
            f"INSERT INTO {_BUILDING} ({', '.join(_FROM_ROLLUP)}) "
            f"SELECT {', '.join(_FROM_ROLLUP.values())} FROM run_rollup"
        )
        client.command(f"EXCHANGE TABLES runs AND {_BUILDING}")
    client.command(f"DROP TABLE IF EXISTS {_BUILDING} SYNC")
    client.command("DROP TABLE IF EXISTS run_rollup SYNC")
    client.command(RUNS_MV)


def add_leads(client: Any) -> None:
    """Migration 41: the ``lead_service``, ``lead_agent``, ``setup_spans`` and ``first_error``
    columns, and the view that fills them. Runs stored before keep their old service and agent (see :data:`SERVICE`)."""
    for column in ("lead_service", "lead_agent"):
        client.command(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {column} {LEAD}")
    client.command(
        "ALTER TABLE runs ADD COLUMN IF NOT EXISTS setup_spans SimpleAggregateFunction(sum, UInt64)"
    )
    client.command(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS first_error {FIRST_ERROR}")
    client.command("DROP VIEW IF EXISTS runs_mv")
    client.command(RUNS_MV)


def add_reruns(client: Any) -> None:
    """Migration 42: the ``rerun_of``, ``rerun_from_call`` and ``rerun_divergence`` columns,
    and the view that fills them. Not backfilled: no run stored before this release is a
    re-run (the SDK's re-run mode ships with it), so older runs keep the losing defaults."""
    for column, kind in (
        ("rerun_of", RERUN_OF),
        ("rerun_from_call", RERUN_FROM_CALL),
        ("rerun_divergence", RERUN_DIVERGENCE),
    ):
        client.command(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {column} {kind}")
    client.command("DROP VIEW IF EXISTS runs_mv")
    client.command(RUNS_MV)


def _merged(client: Any) -> bool:
    """Whether ``runs`` is the merged table already."""
    rows = client.query(
        "SELECT count() FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'runs' AND name = 'error_counts'"
    ).result_rows
    return bool(rows[0][0])
