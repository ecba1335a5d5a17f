"""Rollups the dashboard reads instead of spans: DDL of the tables and the views that fill them.

* ``step_daily`` (:mod:`.stepdaily`) — calls per day, model/tool/decision, agent and user:
  cost, tokens and routing, without grouping runs.
* ``facet_values`` — every distinct service, agent, model, provider and environment with when
  it was first and last seen: the filter choices, and what a filter value is checked against
  before any query runs with it.
* ``escalation_rows`` — spans that escalated to a human (``agentreel.escalation.*``).

Run-level figures (runs, failures, latency, steps) read the per-run table (:mod:`.runtable`).
Migrations 2 and 3 kept them in a ``run_rollup`` table of their own, defined here as those
migrations made it; migration 4 merged it into ``runs``.

Per-model usage was first kept per run as ``sumMap`` tuples (migration 2); merging those maps
per trace at query time took seconds at 1M spans (bench/dashboard.py), so migration 3 moved it
to ``step_daily``. A reprice corrects ``cost_usd`` with rows carrying the difference.
"""

from __future__ import annotations

from . import columns, stepdaily

#: The rollup tables (their bytes count in ``/api/v1/stats``).
TABLES = ("facet_values", "escalation_rows", "step_daily", "user_daily")

#: Separates the parts of a ``sumMap`` key (provider and model; a tag and a name).
SEP = "\x1f"

ADD_ENVIRONMENT = columns.add_column("environment")

# The run rollup as migrations 2 and 3 made it; migration 4 merged it into ``runs``.
RUN_ROLLUP = """
CREATE TABLE IF NOT EXISTS run_rollup (
    project LowCardinality(String),
    trace_id String,
    start_time SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    end_time SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    root_name SimpleAggregateFunction(max, String),
    service SimpleAggregateFunction(max, String),
    root_agent SimpleAggregateFunction(max, String),
    any_agent SimpleAggregateFunction(max, String),
    user SimpleAggregateFunction(max, String),
    session SimpleAggregateFunction(max, String),
    environment SimpleAggregateFunction(max, String),
    llm_calls SimpleAggregateFunction(sum, UInt64),
    tool_calls SimpleAggregateFunction(sum, UInt64),
    decisions SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    llm_errors SimpleAggregateFunction(sum, UInt64),
    tool_errors SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    providers SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    -- per 'provider<SEP>model': input, output, cache read, cache write, reasoning tokens,
    -- cost, counted calls, calls that could not be priced
    -- per 'tool<SEP>name' and 'type<SEP>error type': error spans
    error_counts SimpleAggregateFunction(sumMap, Tuple(Array(String), Array(UInt64)))
)
ENGINE = AggregatingMergeTree
ORDER BY (project, trace_id)
"""

_LLM = "kind = 'llm' AND counted"
_RUN_SELECT = f"""
SELECT
    project,
    trace_id,
    min(start_time) AS start_time,
    max(end_time) AS end_time,
    max(if(parent_span_id = '', toString(name), '')) AS root_name,
    max(toString(service)) AS service,
    max(if(parent_span_id = '', toString(agent), '')) AS root_agent,
    max(toString(agent)) AS any_agent,
    max(user) AS user,
    max(session) AS session,
    max(toString(environment)) AS environment,
    toUInt64(countIf({_LLM})) AS llm_calls,
    toUInt64(countIf(kind = 'tool' AND counted)) AS tool_calls,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(status = 'error')) AS errors,
    toUInt64(countIf({_LLM} AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    sum(if(counted, cost_usd, 0)) AS cost_usd,
    groupUniqArrayIf(toString(model), {_LLM} AND model != '') AS models,
    groupUniqArrayIf(toString(provider), {_LLM} AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted,
               [concat('tool\\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
        ) AS error_keys,
        arrayMap(k -> toUInt64(1), error_keys)
    ) AS error_counts
FROM spans
"""

RUN_ROLLUP_MV = (
    f"CREATE MATERIALIZED VIEW IF NOT EXISTS run_rollup_mv TO run_rollup AS {_RUN_SELECT} "
    "GROUP BY project, trace_id"
)

#: Fills ``run_rollup`` from spans stored before it existed. Skips runs already there, so a
#: migration interrupted after this statement can run it again.
RUN_ROLLUP_BACKFILL = (
    f"INSERT INTO run_rollup {_RUN_SELECT} "
    "WHERE (project, trace_id) NOT IN (SELECT project, trace_id FROM run_rollup) "
    "GROUP BY project, trace_id"
)

FACET_VALUES = """
CREATE TABLE IF NOT EXISTS facet_values (
    project LowCardinality(String),
    field LowCardinality(String),
    value String,
    first_seen SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    spans SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (project, field, value)
"""

#: A span's ``(field, value)`` facets (empty values are not kept).
FACET_PAIRS = """[('service', toString(service)), ('agent', toString(agent)),
            ('model', if(kind = 'llm', toString(model), '')),
            ('provider', if(kind = 'llm', toString(provider), '')),
            ('environment', toString(environment))]"""

#: ``facet_values`` rows of the spans (:mod:`.rederive` adds conditions and the ``GROUP BY``).
FACET_SELECT = f"""
SELECT project, facet.1 AS field, facet.2 AS value,
       min(start_time) AS first_seen, max(start_time) AS last_seen, toUInt64(count()) AS spans
FROM spans
ARRAY JOIN {FACET_PAIRS} AS facet
WHERE facet.2 != ''
"""

FACET_VALUES_MV = (
    f"CREATE MATERIALIZED VIEW IF NOT EXISTS facet_values_mv TO facet_values AS {FACET_SELECT} "
    "GROUP BY project, field, value"
)
FACET_VALUES_BACKFILL = (
    f"INSERT INTO facet_values {FACET_SELECT} "
    "AND (project, field, value) NOT IN (SELECT project, field, value FROM facet_values) "
    "GROUP BY project, field, value"
)

ESCALATION_ROWS = """
CREATE TABLE IF NOT EXISTS escalation_rows (
    project LowCardinality(String),
    time DateTime64(9, 'UTC'),
    trace_id String,
    span_id String,
    agent LowCardinality(String),
    reason String,
    target String,
    severity LowCardinality(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (project, time, trace_id, span_id)
"""

#: ``escalation_rows`` rows of the spans (:mod:`.rederive` adds conditions).
ESCALATION_SELECT = """
SELECT project, start_time AS time, trace_id, span_id, agent,
       attributes['agentreel.escalation.reason'] AS reason,
       attributes['agentreel.escalation.target'] AS target,
       attributes['agentreel.escalation.severity'] AS severity
FROM spans
WHERE (kind = 'escalation' OR mapContains(attributes, 'agentreel.escalation.reason')
   OR mapContains(attributes, 'agentreel.escalation.target')
   OR mapContains(attributes, 'agentreel.escalation.severity'))
"""

ESCALATION_ROWS_MV = (
    "CREATE MATERIALIZED VIEW IF NOT EXISTS escalation_rows_mv TO escalation_rows AS "
    + ESCALATION_SELECT
)
#: ReplacingMergeTree on the full key: running it twice leaves the same rows once merged,
#: and reads take DISTINCT.
ESCALATION_ROWS_BACKFILL = "INSERT INTO escalation_rows " + ESCALATION_SELECT

#: Migration 2, in order: the column first (the views read it), each view before its backfill.
STATEMENTS = (
    ADD_ENVIRONMENT,
    RUN_ROLLUP,
    RUN_ROLLUP_MV,
    RUN_ROLLUP_BACKFILL,
    FACET_VALUES,
    FACET_VALUES_MV,
    FACET_VALUES_BACKFILL,
    ESCALATION_ROWS,
    ESCALATION_ROWS_MV,
    ESCALATION_ROWS_BACKFILL,
)

#: Migration 3: the run rollup without per-model maps (a store that applied the first form of
#: migration 2 had them), and the daily step rollup, filled from stored spans.
STATEMENTS_3 = (
    "DROP VIEW IF EXISTS run_rollup_mv",
    "ALTER TABLE run_rollup DROP COLUMN IF EXISTS usage",
    "ALTER TABLE run_rollup DROP COLUMN IF EXISTS choices",
    RUN_ROLLUP_MV,
    stepdaily.STEP_DAILY,
    stepdaily.USER_DAILY,
    stepdaily.STEP_DAILY_BACKFILL,
    stepdaily.USER_DAILY_BACKFILL,
)
