
CREATE TABLE IF NOT EXISTS agentreel_migrations ON CLUSTER agentreel (
    version UInt32,
    name String,
    applied_at DateTime DEFAULT now()
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}') ORDER BY version
;

            CREATE TABLE IF NOT EXISTS spans_local ON CLUSTER agentreel (
                project LowCardinality(String),
    trace_id String,
    span_id String,
    parent_span_id String,
    name LowCardinality(String),
    kind LowCardinality(String),
    otel_kind LowCardinality(String),
    start_time DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    end_time DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    duration_ns UInt64 CODEC(T64, ZSTD(1)),
    status LowCardinality(String),
    error_type LowCardinality(String),
    error_message String CODEC(ZSTD(3)),
    service LowCardinality(String),
    scope LowCardinality(String),
    convention LowCardinality(String),
    operation LowCardinality(String),
    model LowCardinality(String),
    request_model LowCardinality(String),
    provider LowCardinality(String),
    agent LowCardinality(String),
    session String CODEC(ZSTD(3)),
    user String CODEC(ZSTD(3)),
    environment LowCardinality(String) DEFAULT if(resource['deployment.environment.name'] != '', resource['deployment.environment.name'], resource['deployment.environment']),
    input_tokens UInt64 CODEC(T64, ZSTD(1)),
    output_tokens UInt64 CODEC(T64, ZSTD(1)),
    cache_read_tokens UInt64 CODEC(T64, ZSTD(1)),
    cache_write_tokens UInt64 CODEC(T64, ZSTD(1)),
    reasoning_tokens UInt64 CODEC(T64, ZSTD(1)),
    total_tokens UInt64 CODEC(T64, ZSTD(1)),
    cost_usd Float64 CODEC(ZSTD(1)),
    cost_source LowCardinality(String),
    counted UInt8,
    response_id String CODEC(ZSTD(3)),
    tool_name LowCardinality(String),
    tool_call_id String CODEC(ZSTD(3)),
    finish_reasons Array(LowCardinality(String)),
    content_flags UInt8,
    system_ref FixedString(16),
    input_refs Array(FixedString(16)) CODEC(ZSTD(3)),
    output_refs Array(FixedString(16)) CODEC(ZSTD(3)),
    output_finish_reasons Array(LowCardinality(String)),
    tools_ref FixedString(16),
    tool_arguments_ref FixedString(16),
    tool_result_ref FixedString(16),
    attribute_refs Map(LowCardinality(String), FixedString(16)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    resource Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    events String CODEC(ZSTD(3)),
    warnings Array(String) CODEC(ZSTD(3)),
    ingested_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)
            PARTITION BY toYYYYMM(start_time)
            ORDER BY (project, trace_id, start_time, span_id)
            SETTINGS index_granularity = 1024
;

            CREATE TABLE IF NOT EXISTS spans ON CLUSTER agentreel AS spans_local
ENGINE = Distributed(agentreel, currentDatabase(), spans_local, cityHash64(trace_id))
;

            CREATE TABLE IF NOT EXISTS runs_local ON CLUSTER agentreel (
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
            ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
            ORDER BY (project, trace_id)
;

            CREATE TABLE IF NOT EXISTS runs ON CLUSTER agentreel AS runs_local
ENGINE = Distributed(agentreel, currentDatabase(), runs_local, cityHash64(trace_id))
;

            CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv ON CLUSTER agentreel TO runs_local AS
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
            FROM spans_local
            GROUP BY project, trace_id
;

            CREATE TABLE IF NOT EXISTS content_local ON CLUSTER agentreel (
                project LowCardinality(String),
                hash FixedString(16),
                kind LowCardinality(String),
                body String CODEC(ZSTD(3))
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
            ORDER BY (project, hash)
            SETTINGS index_granularity = 512
;

            CREATE TABLE IF NOT EXISTS content ON CLUSTER agentreel AS content_local
ENGINE = Distributed(agentreel, currentDatabase(), content_local, cityHash64(hash))
;

            CREATE TABLE IF NOT EXISTS message_events_local ON CLUSTER agentreel (
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
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)
            ORDER BY (project, trace_id, span_id, time, seq)
;

            CREATE TABLE IF NOT EXISTS message_events ON CLUSTER agentreel AS message_events_local
ENGINE = Distributed(agentreel, currentDatabase(), message_events_local, cityHash64(trace_id))
;
ALTER TABLE spans_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS environment LowCardinality(String) DEFAULT if(resource['deployment.environment.name'] != '', resource['deployment.environment.name'], resource['deployment.environment']) AFTER user
;
ALTER TABLE spans ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS environment LowCardinality(String) DEFAULT if(resource['deployment.environment.name'] != '', resource['deployment.environment.name'], resource['deployment.environment']) AFTER user
;

CREATE TABLE IF NOT EXISTS run_rollup_local ON CLUSTER agentreel (
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (project, trace_id)
;

CREATE TABLE IF NOT EXISTS run_rollup ON CLUSTER agentreel AS run_rollup_local
ENGINE = Distributed(agentreel, currentDatabase(), run_rollup_local, cityHash64(trace_id))
;
CREATE MATERIALIZED VIEW IF NOT EXISTS run_rollup_mv ON CLUSTER agentreel TO run_rollup_local AS 
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
    toUInt64(countIf(kind = 'llm' AND counted)) AS llm_calls,
    toUInt64(countIf(kind = 'tool' AND counted)) AS tool_calls,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(status = 'error')) AS errors,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    sum(if(counted, cost_usd, 0)) AS cost_usd,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted,
               [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
        ) AS error_keys,
        arrayMap(k -> toUInt64(1), error_keys)
    ) AS error_counts
FROM spans_local
 GROUP BY project, trace_id
;
INSERT INTO run_rollup 
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
    toUInt64(countIf(kind = 'llm' AND counted)) AS llm_calls,
    toUInt64(countIf(kind = 'tool' AND counted)) AS tool_calls,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(status = 'error')) AS errors,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    sum(if(counted, cost_usd, 0)) AS cost_usd,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted,
               [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
        ) AS error_keys,
        arrayMap(k -> toUInt64(1), error_keys)
    ) AS error_counts
FROM spans
 WHERE (project, trace_id) GLOBAL NOT IN (SELECT project, trace_id FROM run_rollup) GROUP BY project, trace_id
;

CREATE TABLE IF NOT EXISTS facet_values_local ON CLUSTER agentreel (
    project LowCardinality(String),
    field LowCardinality(String),
    value String,
    first_seen SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    spans SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (project, field, value)
;

CREATE TABLE IF NOT EXISTS facet_values ON CLUSTER agentreel AS facet_values_local
ENGINE = Distributed(agentreel, currentDatabase(), facet_values_local, rand())
;
CREATE MATERIALIZED VIEW IF NOT EXISTS facet_values_mv ON CLUSTER agentreel TO facet_values_local AS 
SELECT project, facet.1 AS field, facet.2 AS value,
       min(start_time) AS first_seen, max(start_time) AS last_seen, toUInt64(count()) AS spans
FROM spans_local
ARRAY JOIN [('service', toString(service)), ('agent', toString(agent)),
            ('model', if(kind = 'llm', toString(model), '')),
            ('provider', if(kind = 'llm', toString(provider), '')),
            ('environment', toString(environment))] AS facet
WHERE facet.2 != ''
 GROUP BY project, field, value
;
INSERT INTO facet_values 
SELECT project, facet.1 AS field, facet.2 AS value,
       min(start_time) AS first_seen, max(start_time) AS last_seen, toUInt64(count()) AS spans
FROM spans
ARRAY JOIN [('service', toString(service)), ('agent', toString(agent)),
            ('model', if(kind = 'llm', toString(model), '')),
            ('provider', if(kind = 'llm', toString(provider), '')),
            ('environment', toString(environment))] AS facet
WHERE facet.2 != ''
 AND (project, field, value) GLOBAL NOT IN (SELECT project, field, value FROM facet_values) GROUP BY project, field, value
;

CREATE TABLE IF NOT EXISTS escalation_rows_local ON CLUSTER agentreel (
    project LowCardinality(String),
    time DateTime64(9, 'UTC'),
    trace_id String,
    span_id String,
    agent LowCardinality(String),
    reason String,
    target String,
    severity LowCardinality(String)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (project, time, trace_id, span_id)
;

CREATE TABLE IF NOT EXISTS escalation_rows ON CLUSTER agentreel AS escalation_rows_local
ENGINE = Distributed(agentreel, currentDatabase(), escalation_rows_local, cityHash64(trace_id))
;
CREATE MATERIALIZED VIEW IF NOT EXISTS escalation_rows_mv ON CLUSTER agentreel TO escalation_rows_local AS 
SELECT project, start_time AS time, trace_id, span_id, agent,
       attributes['agentreel.escalation.reason'] AS reason,
       attributes['agentreel.escalation.target'] AS target,
       attributes['agentreel.escalation.severity'] AS severity
FROM spans_local
WHERE (kind = 'escalation' OR mapContains(attributes, 'agentreel.escalation.reason')
   OR mapContains(attributes, 'agentreel.escalation.target')
   OR mapContains(attributes, 'agentreel.escalation.severity'))
;
INSERT INTO escalation_rows 
SELECT project, start_time AS time, trace_id, span_id, agent,
       attributes['agentreel.escalation.reason'] AS reason,
       attributes['agentreel.escalation.target'] AS target,
       attributes['agentreel.escalation.severity'] AS severity
FROM spans
WHERE (kind = 'escalation' OR mapContains(attributes, 'agentreel.escalation.reason')
   OR mapContains(attributes, 'agentreel.escalation.target')
   OR mapContains(attributes, 'agentreel.escalation.severity'))
;
DROP VIEW IF EXISTS run_rollup_mv ON CLUSTER agentreel
;
ALTER TABLE run_rollup_local ON CLUSTER agentreel DROP COLUMN IF EXISTS usage
;
ALTER TABLE run_rollup ON CLUSTER agentreel DROP COLUMN IF EXISTS usage
;
ALTER TABLE run_rollup_local ON CLUSTER agentreel DROP COLUMN IF EXISTS choices
;
ALTER TABLE run_rollup ON CLUSTER agentreel DROP COLUMN IF EXISTS choices
;
CREATE MATERIALIZED VIEW IF NOT EXISTS run_rollup_mv ON CLUSTER agentreel TO run_rollup_local AS 
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
    toUInt64(countIf(kind = 'llm' AND counted)) AS llm_calls,
    toUInt64(countIf(kind = 'tool' AND counted)) AS tool_calls,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(status = 'error')) AS errors,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    sum(if(counted, cost_usd, 0)) AS cost_usd,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted,
               [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
        ) AS error_keys,
        arrayMap(k -> toUInt64(1), error_keys)
    ) AS error_counts
FROM spans_local
 GROUP BY project, trace_id
;

CREATE TABLE IF NOT EXISTS step_daily_local ON CLUSTER agentreel (
    project LowCardinality(String),
    day Date32,
    dim LowCardinality(String),
    key String,
    agent LowCardinality(String),
    service LowCardinality(String),
    environment LowCardinality(String),
    provider LowCardinality(String),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    input_tokens SimpleAggregateFunction(sum, Int64),
    output_tokens SimpleAggregateFunction(sum, Int64),
    cache_read_tokens SimpleAggregateFunction(sum, Int64),
    cache_write_tokens SimpleAggregateFunction(sum, Int64),
    reasoning_tokens SimpleAggregateFunction(sum, Int64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    unpriced SimpleAggregateFunction(sum, Int64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project, day, dim, key, agent, service, environment, provider)
;

CREATE TABLE IF NOT EXISTS step_daily ON CLUSTER agentreel AS step_daily_local
ENGINE = Distributed(agentreel, currentDatabase(), step_daily_local, rand())
;

CREATE TABLE IF NOT EXISTS user_daily_local ON CLUSTER agentreel (
    project LowCardinality(String),
    day Date32,
    user String,
    agent LowCardinality(String),
    service LowCardinality(String),
    environment LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    input_tokens SimpleAggregateFunction(sum, Int64),
    output_tokens SimpleAggregateFunction(sum, Int64),
    cache_read_tokens SimpleAggregateFunction(sum, Int64),
    cache_write_tokens SimpleAggregateFunction(sum, Int64),
    reasoning_tokens SimpleAggregateFunction(sum, Int64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    unpriced SimpleAggregateFunction(sum, Int64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project, day, user, agent, service, environment, provider, model)
;

CREATE TABLE IF NOT EXISTS user_daily ON CLUSTER agentreel AS user_daily_local
ENGINE = Distributed(agentreel, currentDatabase(), user_daily_local, rand())
;
INSERT INTO step_daily SELECT project, day, dim, key, agent_, service, environment, provider, sum(calls), sum(errors), sum(i), sum(o), sum(cr), sum(cw), sum(rt), sum(cost), sum(up) FROM (
SELECT s.project AS project, toDate(s.start_time) AS day,
    multiIf(s.kind = 'llm', 'model', s.kind = 'tool', 'tool', 'decision') AS dim,
    multiIf(s.kind = 'llm', toString(s.model), s.kind = 'tool', toString(s.tool_name),
            concat(s.attributes['agentreel.decision.name'], ': ',
                   s.attributes['agentreel.decision.chosen'])) AS key,
    if(s.agent != '', toString(s.agent), r.agent) AS agent_, if(s.user != '', s.user, r.user) AS user_,
    toString(s.service) AS service, toString(s.environment) AS environment,
    if(s.kind = 'llm', toString(s.provider), '') AS provider,
    toInt64(1) AS calls, toInt64(s.status = 'error') AS errors,
    toInt64(if(s.kind = 'llm', s.input_tokens, 0)) AS i,
    toInt64(if(s.kind = 'llm', s.output_tokens, 0)) AS o,
    toInt64(if(s.kind = 'llm', s.cache_read_tokens, 0)) AS cr,
    toInt64(if(s.kind = 'llm', s.cache_write_tokens, 0)) AS cw,
    toInt64(if(s.kind = 'llm', s.reasoning_tokens, 0)) AS rt,
    if(s.kind = 'llm', s.cost_usd, 0) AS cost,
    toInt64(s.kind = 'llm' AND s.cost_source = '' AND s.input_tokens + s.output_tokens > 0) AS up
FROM spans AS s
GLOBAL LEFT JOIN (
    SELECT project, trace_id, any(toString(agent)) AS agent, any(user) AS user FROM spans
    WHERE parent_span_id = '' GROUP BY project, trace_id
) AS r ON r.project = s.project AND r.trace_id = s.trace_id
WHERE (s.kind = 'llm' AND s.counted) OR (s.kind = 'tool' AND s.counted) OR s.kind = 'decision'
) GROUP BY project, day, dim, key, agent_, service, environment, provider
;
INSERT INTO user_daily SELECT project, day, user_, agent_, service, environment, provider, key, sum(calls), sum(errors), sum(i), sum(o), sum(cr), sum(cw), sum(rt), sum(cost), sum(up) FROM (
SELECT s.project AS project, toDate(s.start_time) AS day,
    multiIf(s.kind = 'llm', 'model', s.kind = 'tool', 'tool', 'decision') AS dim,
    multiIf(s.kind = 'llm', toString(s.model), s.kind = 'tool', toString(s.tool_name),
            concat(s.attributes['agentreel.decision.name'], ': ',
                   s.attributes['agentreel.decision.chosen'])) AS key,
    if(s.agent != '', toString(s.agent), r.agent) AS agent_, if(s.user != '', s.user, r.user) AS user_,
    toString(s.service) AS service, toString(s.environment) AS environment,
    if(s.kind = 'llm', toString(s.provider), '') AS provider,
    toInt64(1) AS calls, toInt64(s.status = 'error') AS errors,
    toInt64(if(s.kind = 'llm', s.input_tokens, 0)) AS i,
    toInt64(if(s.kind = 'llm', s.output_tokens, 0)) AS o,
    toInt64(if(s.kind = 'llm', s.cache_read_tokens, 0)) AS cr,
    toInt64(if(s.kind = 'llm', s.cache_write_tokens, 0)) AS cw,
    toInt64(if(s.kind = 'llm', s.reasoning_tokens, 0)) AS rt,
    if(s.kind = 'llm', s.cost_usd, 0) AS cost,
    toInt64(s.kind = 'llm' AND s.cost_source = '' AND s.input_tokens + s.output_tokens > 0) AS up
FROM spans AS s
GLOBAL LEFT JOIN (
    SELECT project, trace_id, any(toString(agent)) AS agent, any(user) AS user FROM spans
    WHERE parent_span_id = '' GROUP BY project, trace_id
) AS r ON r.project = s.project AND r.trace_id = s.trace_id
WHERE (s.kind = 'llm' AND s.counted) OR (s.kind = 'tool' AND s.counted) OR s.kind = 'decision'
) WHERE dim = 'model' GROUP BY project, day, user_, agent_, service, environment, provider, key
;
DROP VIEW IF EXISTS runs_mv ON CLUSTER agentreel
;
DROP VIEW IF EXISTS run_rollup_mv ON CLUSTER agentreel
;
DROP TABLE IF EXISTS runs_merged ON CLUSTER agentreel SYNC
;
DROP TABLE IF EXISTS runs_merged_local ON CLUSTER agentreel SYNC
;

CREATE TABLE IF NOT EXISTS runs_merged_local ON CLUSTER agentreel (
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
    lead_service SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), ''),
    lead_agent SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), ''),
    setup_spans SimpleAggregateFunction(sum, UInt64),
    first_error SimpleAggregateFunction(min, Tuple(DateTime64(9, 'UTC'), String, String)) DEFAULT (toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', ''),
    rerun_of SimpleAggregateFunction(max, String),
    rerun_from_call SimpleAggregateFunction(max, Int64) DEFAULT -1,
    rerun_divergence SimpleAggregateFunction(min, Tuple(UInt32, String)) DEFAULT (4294967295, '')
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (project, trace_id)
;

CREATE TABLE IF NOT EXISTS runs_merged ON CLUSTER agentreel AS runs_merged_local
ENGINE = Distributed(agentreel, currentDatabase(), runs_merged_local, cityHash64(trace_id))
;
INSERT INTO runs_merged (project, trace_id, start_time, end_time, root_name, service, agent, session, user, spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, models, has_root) SELECT project, trace_id, start_time, end_time, root_name, service, agent, session, user, spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, models, has_root FROM runs
;
INSERT INTO runs_merged (project, trace_id, start_time, end_time, root_agent, environment, decisions, llm_errors, tool_errors, counted_models, providers, error_counts) SELECT project, trace_id, start_time, end_time, root_agent, environment, decisions, llm_errors, tool_errors, models, providers, error_counts FROM run_rollup
;
EXCHANGE TABLES runs_local AND runs_merged_local ON CLUSTER agentreel
;
DROP TABLE IF EXISTS runs ON CLUSTER agentreel SYNC
;
CREATE TABLE IF NOT EXISTS runs ON CLUSTER agentreel AS runs_local
ENGINE = Distributed(agentreel, currentDatabase(), runs_local, cityHash64(trace_id))
;
DROP TABLE IF EXISTS runs_merged ON CLUSTER agentreel SYNC
;
CREATE TABLE IF NOT EXISTS runs_merged ON CLUSTER agentreel AS runs_merged_local
ENGINE = Distributed(agentreel, currentDatabase(), runs_merged_local, cityHash64(trace_id))
;
DROP TABLE IF EXISTS runs_merged ON CLUSTER agentreel SYNC
;
DROP TABLE IF EXISTS runs_merged_local ON CLUSTER agentreel SYNC
;
DROP TABLE IF EXISTS run_rollup ON CLUSTER agentreel SYNC
;
DROP TABLE IF EXISTS run_rollup_local ON CLUSTER agentreel SYNC
;

CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv ON CLUSTER agentreel TO runs_local AS
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
    max(parent_span_id = '') AS has_root,
    -- spans.agent: the column (plain ``agent`` is the alias above)
    max(if(parent_span_id = '', toString(spans.agent), '')) AS root_agent,
    max(toString(environment)) AS environment,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS counted_models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted, [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
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
                 substringUTF8(error_message, 1, 300)),
           tuple(toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', ''))) AS first_error,
    max(if(parent_span_id = '', attributes['agentreel.rerun.of'], '')) AS rerun_of,
    max(if(if(parent_span_id = '', attributes['agentreel.rerun.of'], '') != '',
           toInt64OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.from_call'], ''), toInt64(0)),
           toInt64(-1))) AS rerun_from_call,
    min(tuple(toUInt32OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.diverged_at'], ''), toUInt32(4294967295)),
              substringUTF8(if(parent_span_id = '', attributes['agentreel.rerun.divergence'], ''), 1, 300)))
        AS rerun_divergence
FROM spans_local
GROUP BY project, trace_id
;

            CREATE TABLE IF NOT EXISTS projects ON CLUSTER agentreel (
                name String,
                created_at DateTime64(3, 'UTC')
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')
            ORDER BY name
;

            CREATE TABLE IF NOT EXISTS api_keys ON CLUSTER agentreel (
                id String,
                project String,
                hash String,
                label String,
                created_at DateTime64(3, 'UTC'),
                revoked UInt8,
                revoked_at DateTime64(3, 'UTC'),
                version UInt64
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', version)
            ORDER BY id
;

            CREATE TABLE IF NOT EXISTS scores_local ON CLUSTER agentreel (
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
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)
            ORDER BY (project, trace_id, score_id)
;

            CREATE TABLE IF NOT EXISTS scores ON CLUSTER agentreel AS scores_local
ENGINE = Distributed(agentreel, currentDatabase(), scores_local, cityHash64(trace_id))
;

            CREATE TABLE IF NOT EXISTS alert_rules ON CLUSTER agentreel (
                project LowCardinality(String),
                name String,
                body String,
                deleted UInt8,
                updated_at DateTime64(3, 'UTC')
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', updated_at)
            ORDER BY (project, name)
;

            CREATE TABLE IF NOT EXISTS alert_history ON CLUSTER agentreel (
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
            ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')
            ORDER BY (project, time, rule, key)
;

            CREATE TABLE IF NOT EXISTS price_overrides ON CLUSTER agentreel (
                project String,
                body String,
                version UInt64,
                updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', version)
            ORDER BY project
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS lead_service SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '')
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS lead_service SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '')
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS lead_agent SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '')
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS lead_agent SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(9, 'UTC'), String)) DEFAULT (255, toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '')
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS setup_spans SimpleAggregateFunction(sum, UInt64)
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS setup_spans SimpleAggregateFunction(sum, UInt64)
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS first_error SimpleAggregateFunction(min, Tuple(DateTime64(9, 'UTC'), String, String)) DEFAULT (toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', '')
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS first_error SimpleAggregateFunction(min, Tuple(DateTime64(9, 'UTC'), String, String)) DEFAULT (toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', '')
;
DROP VIEW IF EXISTS runs_mv ON CLUSTER agentreel
;

CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv ON CLUSTER agentreel TO runs_local AS
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
    max(parent_span_id = '') AS has_root,
    -- spans.agent: the column (plain ``agent`` is the alias above)
    max(if(parent_span_id = '', toString(spans.agent), '')) AS root_agent,
    max(toString(environment)) AS environment,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS counted_models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted, [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
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
                 substringUTF8(error_message, 1, 300)),
           tuple(toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', ''))) AS first_error,
    max(if(parent_span_id = '', attributes['agentreel.rerun.of'], '')) AS rerun_of,
    max(if(if(parent_span_id = '', attributes['agentreel.rerun.of'], '') != '',
           toInt64OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.from_call'], ''), toInt64(0)),
           toInt64(-1))) AS rerun_from_call,
    min(tuple(toUInt32OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.diverged_at'], ''), toUInt32(4294967295)),
              substringUTF8(if(parent_span_id = '', attributes['agentreel.rerun.divergence'], ''), 1, 300)))
        AS rerun_divergence
FROM spans_local
GROUP BY project, trace_id
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_of SimpleAggregateFunction(max, String)
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_of SimpleAggregateFunction(max, String)
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_from_call SimpleAggregateFunction(max, Int64) DEFAULT -1
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_from_call SimpleAggregateFunction(max, Int64) DEFAULT -1
;
ALTER TABLE runs_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_divergence SimpleAggregateFunction(min, Tuple(UInt32, String)) DEFAULT (4294967295, '')
;
ALTER TABLE runs ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS rerun_divergence SimpleAggregateFunction(min, Tuple(UInt32, String)) DEFAULT (4294967295, '')
;
DROP VIEW IF EXISTS runs_mv ON CLUSTER agentreel
;

CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv ON CLUSTER agentreel TO runs_local AS
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
    max(parent_span_id = '') AS has_root,
    -- spans.agent: the column (plain ``agent`` is the alias above)
    max(if(parent_span_id = '', toString(spans.agent), '')) AS root_agent,
    max(toString(environment)) AS environment,
    toUInt64(countIf(kind = 'decision')) AS decisions,
    toUInt64(countIf(kind = 'llm' AND counted AND status = 'error')) AS llm_errors,
    toUInt64(countIf(kind = 'tool' AND counted AND status = 'error')) AS tool_errors,
    groupUniqArrayIf(toString(model), kind = 'llm' AND counted AND model != '') AS counted_models,
    groupUniqArrayIf(toString(provider), kind = 'llm' AND counted AND provider != '') AS providers,
    sumMap(
        arrayConcat(
            if(status = 'error' AND kind = 'tool' AND counted, [concat('tool\x1f', toString(tool_name))], []),
            if(status = 'error',
               [concat('type\x1f', if(error_type = '', 'unknown', toString(error_type)))], [])
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
                 substringUTF8(error_message, 1, 300)),
           tuple(toDateTime64('2262-01-01 00:00:00', 9, 'UTC'), '', ''))) AS first_error,
    max(if(parent_span_id = '', attributes['agentreel.rerun.of'], '')) AS rerun_of,
    max(if(if(parent_span_id = '', attributes['agentreel.rerun.of'], '') != '',
           toInt64OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.from_call'], ''), toInt64(0)),
           toInt64(-1))) AS rerun_from_call,
    min(tuple(toUInt32OrDefault(if(parent_span_id = '', attributes['agentreel.rerun.diverged_at'], ''), toUInt32(4294967295)),
              substringUTF8(if(parent_span_id = '', attributes['agentreel.rerun.divergence'], ''), 1, 300)))
        AS rerun_divergence
FROM spans_local
GROUP BY project, trace_id
;

CREATE TABLE IF NOT EXISTS genai_metric_points_local ON CLUSTER agentreel (
    project LowCardinality(String),
    metric LowCardinality(String),
    service LowCardinality(String),
    temporality LowCardinality(String),
    start_time DateTime64(9, 'UTC'),
    time DateTime64(9, 'UTC'),
    operation LowCardinality(String),
    provider LowCardinality(String),
    request_model LowCardinality(String),
    response_model LowCardinality(String),
    token_type LowCardinality(String),
    error_type LowCardinality(String),
    count UInt64,
    sum Float64,
    bounds Array(Float64),
    bucket_counts Array(UInt64),
    received_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(time)
ORDER BY (project, metric, time, start_time, service, operation, provider, request_model,
          response_model, token_type, error_type)
;

CREATE TABLE IF NOT EXISTS genai_metric_points ON CLUSTER agentreel AS genai_metric_points_local
ENGINE = Distributed(agentreel, currentDatabase(), genai_metric_points_local, cityHash64(project, metric, service, start_time))
;

            CREATE TABLE IF NOT EXISTS retention ON CLUSTER agentreel (
                project String,
                days UInt32,
                version UInt64
            )
            ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', version)
            ORDER BY project
;
ALTER TABLE content_local ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS written_at DateTime DEFAULT now()
;
ALTER TABLE content ON CLUSTER agentreel ADD COLUMN IF NOT EXISTS written_at DateTime DEFAULT now()
;
ALTER TABLE content_local ON CLUSTER agentreel MATERIALIZE COLUMN written_at
;
