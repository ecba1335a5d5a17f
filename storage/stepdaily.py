"""The daily step rollup: LLM calls, tool calls and decisions per day, attributed to their run.

``step_daily`` holds, per UTC day of the call, service, environment, agent, user, provider and
``(dim, key)`` — ``('model', model)``, ``('tool', tool name)``, ``('decision', 'name: chosen')``
— the counted calls, errors, tokens, cost and calls without a price. Cost, routing and
unknown-model queries read it instead of grouping runs, so they stay fast however many runs
are stored (it grows with days x distinct keys, not with spans).

The agent and user of a call are its own (``gen_ai.agent.name``, ``user.id`` on the span) or
else its run's: the root span's. The root usually ends, and is exported, after the calls,
so the writer builds these rows itself rather than a materialized view: calls whose root is
stored (or in the same batch) are attributed at once; when a root arrives after its calls,
the writer moves those calls' rows from "no agent" to the root's agent and user (a row with
negated counts and one with the counts, so sums stay exact).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from agentreel.core.model import Span

from . import crashpoints

#: Columns of ``step_daily`` in insert order: the key, then the sums.
KEY_COLUMNS = ("project", "day", "dim", "key", "agent", "service", "environment", "provider")
#: ``user_daily`` keys: LLM calls per user, kept apart (users are many; only cost by user
#: reads them).
USER_KEY_COLUMNS = (
    "project",
    "day",
    "user",
    "agent",
    "service",
    "environment",
    "provider",
    "model",
)
SUM_COLUMNS = (
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "unpriced",
)

STEP_DAILY = """
CREATE TABLE IF NOT EXISTS step_daily (
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project, day, dim, key, agent, service, environment, provider)
"""

USER_DAILY = (
    STEP_DAILY.replace("step_daily", "user_daily")
    .replace("    dim LowCardinality(String),\n    key String,\n", "")
    .replace(
        "    agent LowCardinality(String),\n",
        "    user String,\n    agent LowCardinality(String),\n",
    )
    .replace(
        "    provider LowCardinality(String),\n",
        "    provider LowCardinality(String),\n    model LowCardinality(String),\n",
    )
    .replace(
        "ORDER BY (project, day, dim, key, agent, service, environment, provider)",
        "ORDER BY (project, day, user, agent, service, environment, provider, model)",
    )
)


def _attributed(spans: str = "") -> str:
    """Each counted step of the stored spans with its run's agent and user; ``spans`` (a
    condition on ``spans`` columns) narrows it to those spans, reading only their runs' roots."""
    source, roots = "spans", ""
    if spans:
        source = f"(SELECT * FROM spans FINAL WHERE {spans})"
        roots = f" AND (project, trace_id) IN (SELECT project, trace_id FROM spans WHERE {spans})"
    return f"""
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
FROM {source} AS s
LEFT JOIN (
    SELECT project, trace_id, any(toString(agent)) AS agent, any(user) AS user FROM spans
    WHERE parent_span_id = ''{roots} GROUP BY project, trace_id
) AS r ON r.project = s.project AND r.trace_id = s.trace_id
WHERE (s.kind = 'llm' AND s.counted) OR (s.kind = 'tool' AND s.counted) OR s.kind = 'decision'
"""


_SUMS = "sum(calls), sum(errors), sum(i), sum(o), sum(cr), sum(cw), sum(rt), sum(cost), sum(up)"


def step_daily_fill(spans: str = "") -> str:
    """``INSERT`` of the ``step_daily`` rows of the stored spans (those meeting ``spans``)."""
    return (
        f"INSERT INTO step_daily SELECT project, day, dim, key, agent_, service, environment, "
        f"provider, {_SUMS} FROM ({_attributed(spans)}) "
        "GROUP BY project, day, dim, key, agent_, service, environment, provider"
    )


def user_daily_fill(spans: str = "") -> str:
    """``INSERT`` of the ``user_daily`` rows of the stored spans (those meeting ``spans``)."""
    return (
        f"INSERT INTO user_daily SELECT project, day, user_, agent_, service, environment, "
        f"provider, key, {_SUMS} FROM ({_attributed(spans)}) WHERE dim = 'model' "
        "GROUP BY project, day, user_, agent_, service, environment, provider, key"
    )


#: The same rows from spans already stored, for a store that predates these tables.
STEP_DAILY_BACKFILL = step_daily_fill()
USER_DAILY_BACKFILL = user_daily_fill()


def _step(span: Span) -> tuple[str, str] | None:
    """``(dim, key)`` of a step that counts, or None."""
    if span.kind == "llm" and span.counted:
        return "model", span.model
    if span.kind == "tool" and span.counted:
        return "tool", span.tool_name
    if span.kind == "decision":
        attrs = span.attributes
        return "decision", (
            f"{attrs.get('agentreel.decision.name', '')}: "
            f"{attrs.get('agentreel.decision.chosen', '')}"
        )
    return None


def environment_of(span: Span) -> str:
    """The span's deployment environment (the same rule as the ``spans.environment`` column)."""
    res = span.resource
    return res.get("deployment.environment.name") or res.get("deployment.environment", "")


def rows_of(span: Span, agent: str, user: str, sign: int = 1) -> list[list[Any]]:
    """The ``step_daily`` row of one span attributed to ``agent``/``user`` (none when the
    span is not a counted step); ``sign=-1`` takes it back."""
    step = _step(span)
    if step is None:
        return []
    llm = span.kind == "llm"
    day = datetime.fromtimestamp(span.start_ns / 1e9, UTC).date()
    unpriced = llm and not span.cost_source and (span.input_tokens or span.output_tokens) > 0
    sums = [
        1,
        int(span.status == "error"),
        span.input_tokens if llm else 0,
        span.output_tokens if llm else 0,
        span.cache_read_tokens if llm else 0,
        span.cache_write_tokens if llm else 0,
        span.reasoning_tokens if llm else 0,
        span.cost_usd if llm else 0.0,
        int(unpriced),
    ]
    key = [span.project, day, *step, agent, user, span.service, environment_of(span)]
    key.append(span.provider if llm else "")
    return [key + [sign * v for v in sums]]


#: Where each key column sits in a row of :func:`rows_of`.
_AT = {"project": 0, "day": 1, "dim": 2, "key": 3, "model": 3, "agent": 4, "user": 5}
_AT |= {"service": 6, "environment": 7, "provider": 8}
_SUMS_AT = 9


def insert(client: Any, rows: Iterable[list[Any]]) -> None:
    """Insert :func:`rows_of` rows into ``step_daily`` and (LLM calls) ``user_daily``, summed
    by key first: a batch's calls collapse into a few rows per key."""
    steps: dict[tuple[Any, ...], list[Any]] = {}
    users: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        _add(steps, tuple(row[_AT[c]] for c in KEY_COLUMNS), row[_SUMS_AT:])
        if row[_AT["dim"]] == "model":
            _add(users, tuple(row[_AT[c]] for c in USER_KEY_COLUMNS), row[_SUMS_AT:])
    for table, summed, columns in (
        ("step_daily", steps, KEY_COLUMNS),
        ("user_daily", users, USER_KEY_COLUMNS),
    ):
        if summed:
            client.insert(
                table,
                [[*key, *sums] for key, sums in summed.items()],
                column_names=(*columns, *SUM_COLUMNS),
            )
        if table == "step_daily":
            crashpoints.reached("step_daily")


_INT64 = (-(2**63), 2**63 - 1)


def _add(summed: dict[tuple[Any, ...], list[Any]], key: tuple[Any, ...], sums: list[Any]) -> None:
    total = summed.setdefault(key, [0] * len(sums))
    for i, value in enumerate(sums):
        total[i] += value
        if isinstance(value, int):
            # Counts are bounded by 2**63 - 1 each; a sum of absurd ones saturates.
            total[i] = min(max(total[i], _INT64[0]), _INT64[1])


def step_rows(client: Any, fresh: list[Span]) -> list[list[Any]]:
    """The ``step_daily`` rows for a batch of new spans, read against what is stored (call
    before the batch is inserted): each step attributed to its run, plus the moves for calls
    stored before their root, when the root is in this batch."""
    steps = [s for s in fresh if _step(s) is not None]
    roots: dict[tuple[str, str], tuple[str, str]] = {}
    for span in fresh:
        if not span.parent_span_id:
            roots.setdefault((span.project, span.trace_id), (span.agent, span.user))
    wanted = {(s.project, s.trace_id) for s in steps if not (s.agent and s.user)} | set(roots)
    if not wanted:
        return []
    stored = stored_roots(client, wanted)
    rows: list[list[Any]] = []
    for span in steps:
        agent, user = stored.get((span.project, span.trace_id)) or roots.get(
            (span.project, span.trace_id), ("", "")
        )
        rows += rows_of(span, span.agent or agent, span.user or user)
    late = {k: v for k, v in roots.items() if k not in stored and any(v)}
    in_batch = {(s.project, s.span_id) for s in fresh}
    for span in stored_steps(client, late):
        if (span.project, span.span_id) in in_batch:
            continue
        agent, user = late[(span.project, span.trace_id)]
        moved = (span.agent or agent, span.user or user)
        if moved != (span.agent, span.user):
            rows += rows_of(span, span.agent, span.user, sign=-1) + rows_of(span, *moved)
    return rows


def by_project(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``(project, trace_id)`` pairs as sorted trace ids per project."""
    out: dict[str, list[str]] = {}
    for project, trace in sorted(keys):
        out.setdefault(project, []).append(trace)
    return out


def stored_roots(
    client: Any, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """``(agent, user)`` of the stored root span of each ``(project, trace_id)`` that has one."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for project, traces in by_project(keys).items():
        result = client.query(
            "SELECT trace_id, toString(agent), user FROM spans WHERE project = {p:String} "
            "AND trace_id IN {t:Array(String)} AND parent_span_id = '' ORDER BY start_time",
            parameters={"p": project, "t": traces},
        )
        for trace, agent, user in result.result_rows:
            found.setdefault((project, trace), (agent, user))
    return found


def stored_steps(client: Any, runs: Iterable[tuple[str, str]]) -> list[Span]:
    """Stored steps of these ``(project, trace_id)`` runs, as spans carrying what
    :func:`rows_of` reads."""
    spans: dict[tuple[str, str], Span] = {}
    for project, traces in by_project(runs).items():
        result = client.query(
            "SELECT trace_id, span_id, toString(kind), counted, toUnixTimestamp64Nano(start_time), "
            "toString(model), toString(tool_name), attributes['agentreel.decision.name'], "
            "attributes['agentreel.decision.chosen'], toString(status), input_tokens, "
            "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, "
            "toString(cost_source), toString(service), toString(environment), "
            "toString(provider), toString(agent), user FROM spans WHERE project = {p:String} "
            "AND trace_id IN {t:Array(String)} "
            "AND ((kind IN ('llm', 'tool') AND counted) OR kind = 'decision')",
            parameters={"p": project, "t": traces},
        )
        for row in result.result_rows:
            trace, span_id, kind, counted, start, model, tool, name, chosen, status = row[:10]
            i, o, cr, cw, r, cost, source, service, env, provider, agent, user = row[10:]
            spans.setdefault(
                (project, span_id),
                Span(
                    project=project, trace_id=trace, span_id=span_id, parent_span_id="-",
                    name="", kind=kind, otel_kind="", start_ns=start, end_ns=start,
                    status=status, service=service, model=model, provider=provider,
                    agent=agent, user=user, input_tokens=i, output_tokens=o,
                    cache_read_tokens=cr, cache_write_tokens=cw, reasoning_tokens=r,
                    cost_usd=cost, cost_source=source, counted=bool(counted), tool_name=tool,
                    attributes={"agentreel.decision.name": name,
                                "agentreel.decision.chosen": chosen},
                    resource={"deployment.environment.name": env},
                ),
            )  # fmt: skip
    return list(spans.values())
