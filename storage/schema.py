"""Versioned, idempotent schema migrations, applied at start.

Layout, and why:

* ``spans`` — one row per span, typed columns for what dashboards filter and sum, declared
  column by column in :mod:`.columns` (the writer, reads, export and API follow it). Sorted by
  ``(project, trace_id, start_time, span_id)``: replay reads one trace, and the spans of a
  trace sit together in time order, so the content hash lists of consecutive calls (each
  call's list is the previous call's plus a few) and their timestamps compress against each
  other (12% smaller than sorting by span id, measured). A retried span has the same start
  time, so ReplacingMergeTree still folds duplicates; the writer already refuses a span it
  has stored.
* ``runs`` — one row per trace, kept up to date by a materialized view over ``spans``, so
  listing runs and the dashboard's run-level figures never scan spans (:mod:`.runtable`;
  migration 4 merged the dashboard's ``run_rollup`` into it).
* ``content`` — each distinct message, tool list, argument or result once per project,
  addressed by a 16-byte BLAKE2b hash. Read by point lookups of large values, so granules
  are small (512 rows: 3x faster lookups than 8192 for 5% more bytes, measured); the spans
  table likewise uses 1024-row granules (a trace's spans read 40% faster).
* ``message_events`` — messages that arrived as GenAI ≤1.36 log events, joined to their span
  by id when a run is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import columns, genai_metrics, rollups, runtable
from .rollups import TABLES as ROLLUP_TABLES

#: Tables whose bytes on disk ``/api/v1/stats`` reports.
TABLES = ("spans", "runs", "content", "message_events", *ROLLUP_TABLES)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    #: A step that reads the store to decide what to do, run after the statements.
    apply: Callable[[Any], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "spans, runs, content, message events",
        (
            f"""
            CREATE TABLE IF NOT EXISTS spans (
                {columns.DEFINITIONS}
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            PARTITION BY toYYYYMM(start_time)
            ORDER BY (project, trace_id, start_time, span_id)
            SETTINGS index_granularity = 1024
            """,
            """
            CREATE TABLE IF NOT EXISTS runs (
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
                has_root SimpleAggregateFunction(max, UInt8)
            )
            ENGINE = AggregatingMergeTree
            ORDER BY (project, trace_id)
            """,
            """
            CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv TO runs AS
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
                toUInt64(countIf(kind = 'llm' AND counted)) AS llm_calls,
                toUInt64(countIf(kind = 'tool' AND counted)) AS tool_calls,
                toUInt64(countIf(status = 'error')) AS errors,
                sum(if(counted, input_tokens, 0)) AS input_tokens,
                sum(if(counted, output_tokens, 0)) AS output_tokens,
                sum(if(counted, cache_read_tokens, 0)) AS cache_read_tokens,
                sum(if(counted, cache_write_tokens, 0)) AS cache_write_tokens,
                sum(if(counted, reasoning_tokens, 0)) AS reasoning_tokens,
                sum(if(counted, total_tokens, 0)) AS total_tokens,
                sum(if(counted, cost_usd, 0)) AS cost_usd,
                groupUniqArrayIf(toString(model), kind = 'llm' AND model != '') AS models,
                max(parent_span_id = '') AS has_root
            FROM spans
            GROUP BY project, trace_id
            """,
            """
            CREATE TABLE IF NOT EXISTS content (
                project LowCardinality(String),
                hash FixedString(16),
                kind LowCardinality(String),
                body String CODEC(ZSTD(3))
            )
            ENGINE = ReplacingMergeTree
            ORDER BY (project, hash)
            SETTINGS index_granularity = 512
            """,
            """
            CREATE TABLE IF NOT EXISTS message_events (
                project LowCardinality(String),
                trace_id String,
                span_id String,
                time DateTime64(9, 'UTC'),
                seq UInt32,
                event_name LowCardinality(String),
                direction LowCardinality(String),
                ref FixedString(16),
                ingested_at DateTime64(3, 'UTC')
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            ORDER BY (project, trace_id, span_id, time, seq)
            """,
        ),
    ),
    Migration(
        2,
        "environment column; run, facet and escalation rollups for the dashboard",
        rollups.STATEMENTS,
    ),
    Migration(3, "daily step rollup; run rollup without per-model maps", rollups.STATEMENTS_3),
    Migration(4, "one per-run table: run_rollup merged into runs", (), runtable.merge),
    Migration(
        10,
        "projects and API keys (storage/projects.py)",
        (
            """
            CREATE TABLE IF NOT EXISTS projects (
                name String,
                created_at DateTime64(3, 'UTC')
            )
            ENGINE = ReplacingMergeTree
            ORDER BY name
            """,
            """
            CREATE TABLE IF NOT EXISTS api_keys (
                id String,
                project String,
                hash String,
                label String,
                created_at DateTime64(3, 'UTC'),
                revoked UInt8,
                revoked_at DateTime64(3, 'UTC'),
                version UInt64
            )
            ENGINE = ReplacingMergeTree(version)
            ORDER BY id
            """,
        ),
    ),
    Migration(
        20,
        "scores",
        (
            # A score of a run (span_id '') or of one span. Rows are replaced by score_id:
            # an evaluator scoring a run again replaces its earlier verdict.
            """
            CREATE TABLE IF NOT EXISTS scores (
                project LowCardinality(String),
                trace_id String,
                span_id String,
                score_id String,
                time DateTime64(3, 'UTC'),
                name LowCardinality(String),
                kind LowCardinality(String),
                data_type LowCardinality(String),
                value Nullable(Float64),
                label String,
                source LowCardinality(String),
                comment String CODEC(ZSTD(3)),
                explanation String CODEC(ZSTD(3)),
                correction String CODEC(ZSTD(3)),
                response_id String,
                details String CODEC(ZSTD(3)),
                ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
            )
            ENGINE = ReplacingMergeTree(ingested_at)
            ORDER BY (project, trace_id, score_id)
            """,
        ),
    ),
    Migration(
        21,
        "alert rules and alert history",
        (
            """
            CREATE TABLE IF NOT EXISTS alert_rules (
                project LowCardinality(String),
                name String,
                body String,
                deleted UInt8,
                updated_at DateTime64(3, 'UTC')
            )
            ENGINE = ReplacingMergeTree(updated_at)
            ORDER BY (project, name)
            """,
            """
            CREATE TABLE IF NOT EXISTS alert_history (
                project LowCardinality(String),
                time DateTime64(3, 'UTC'),
                rule LowCardinality(String),
                key String,
                state LowCardinality(String),
                metric LowCardinality(String),
                value Float64,
                threshold Float64,
                message String,
                delivery String
            )
            ENGINE = MergeTree
            ORDER BY (project, time, rule, key)
            """,
        ),
    ),
    Migration(
        40,
        "price overrides per project",
        (
            # A project's overrides as one JSON list (PUT replaces them whole); the row with
            # the highest version is in force (storage/price_overrides.py).
            """
            CREATE TABLE IF NOT EXISTS price_overrides (
                project String,
                body String,
                version UInt64,
                updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
            )
            ENGINE = ReplacingMergeTree(version)
            ORDER BY project
            """,
        ),
    ),
    Migration(
        41,
        "a run's service and agent: its root span's; set-up traces; its first error",
        (),
        runtable.add_leads,
    ),
    Migration(
        42,
        "re-runs: what a run re-ran, from which call, where it diverged",
        (),
        runtable.add_reruns,
    ),
    Migration(
        43,
        "GenAI client metrics (OTLP gen_ai.client.* histogram points)",
        (genai_metrics.CREATE,),
    ),
    Migration(
        44,
        "retention per project (storage/retention.py)",
        (
            # A project's retention in days (0: no override, the server default applies);
            # the row with the highest version is in force.
            """
            CREATE TABLE IF NOT EXISTS retention (
                project String,
                days UInt32,
                version UInt64
            )
            ENGINE = ReplacingMergeTree(version)
            ORDER BY project
            """,
        ),
    ),
    Migration(
        45,
        "when each content row was written: unreferenced content is deleted only once settled",
        (
            "ALTER TABLE content ADD COLUMN IF NOT EXISTS written_at DateTime DEFAULT now()",
            # Rows stored before this migration count as written now (not at read time).
            "ALTER TABLE content MATERIALIZE COLUMN written_at",
        ),
    ),
)

_LEDGER = """
CREATE TABLE IF NOT EXISTS agentreel_migrations (
    version UInt32,
    name String,
    applied_at DateTime DEFAULT now()
) ENGINE = MergeTree ORDER BY version
"""


def migrate(client: Any, cluster: str = "") -> list[int]:
    """Apply the migrations the store has not seen yet; return their versions.

    Every statement is idempotent, so a start interrupted half-way simply runs again. With
    ``cluster``, every statement (those a migration's ``apply`` step sends too) is placed on
    that cluster by :mod:`.cluster`.
    """
    if cluster:
        from .cluster import ClusterClient

        client = ClusterClient(client, cluster)
    client.command(_LEDGER)
    done = {row[0] for row in client.query("SELECT version FROM agentreel_migrations").result_rows}
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements:
            client.command(statement)
        if migration.apply is not None:
            migration.apply(client)
        client.insert(
            "agentreel_migrations",
            [[migration.version, migration.name]],
            column_names=["version", "name"],
        )
        applied.append(migration.version)
    return applied


def current_version(client: Any) -> int:
    rows = client.query("SELECT max(version) FROM agentreel_migrations").result_rows
    return int(rows[0][0] or 0)
