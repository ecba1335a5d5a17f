"""Read queries. Every value a caller supplies is a bound parameter; sort keys and filter
names are checked against allow-lists before any SQL is built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from . import columns
from .runtable import AGENT, IS_RUN, IS_RUN_GROUPED, NO_DIVERGENCE, SERVICE
from .schema import TABLES

#: Sort keys users may ask for, and the expression each maps to.
RUN_SORTS = {
    "start_time": "start",
    "duration": "duration_ns",
    "cost": "cost_usd",
    "tokens": "total",
    "spans": "spans",
    "errors": "errors",
    "llm_calls": "llm_calls",
}
MAX_PAGE = 500
#: Deepest page offset (ClickHouse takes a UInt64; beyond a million runs, narrow the filter).
MAX_OFFSET = 1_000_000

#: What a free-text run search may contain: enough for ids, names and emails, nothing that
#: looks like SQL (the value is a bound parameter anyway; this answers a clear 400).
SEARCH_TEXT = re.compile(r"^[\w .:@/+#=,-]{1,200}$")

#: Token counts of a span or run, in the order the API shows them.
USAGE_FIELDS = columns.USAGE


def usage(row: dict[str, Any]) -> dict[str, Any]:
    """The token counts of a span row, as the API shows them."""
    return {field: row[field] for field in USAGE_FIELDS}


class BadQuery(ValueError):
    """A caller's filter, sort or page is not one the API takes (400)."""


@dataclass(frozen=True)
class RunFilter:
    project: str
    start_from_ns: int | None = None
    start_to_ns: int | None = None
    service: str | None = None
    agent: str | None = None
    status: str | None = None
    session: str | None = None
    user: str | None = None
    model: str | None = None
    provider: str | None = None
    environment: str | None = None
    #: Free text matched against the trace id (prefix), root span name, session and user.
    q: str | None = None
    sort: str = "start_time"
    descending: bool = True
    limit: int = 50
    offset: int = 0


def stats(
    client: Any, project: str | None = None, *, project_bytes: bool = False
) -> dict[str, Any]:
    """Counts of what is stored and queryable, and bytes on disk of agentreel's tables; with
    ``project_bytes``, an estimate of ``project``'s share of them (it reads every row)."""
    where = "WHERE project = {project:String}" if project else ""
    params = {"project": project} if project else {}
    spans, llm_calls, traces = client.query(
        f"SELECT count(), countIf(kind = 'llm' AND counted = 1), uniqExact(trace_id) "
        f"FROM spans {where}",
        parameters=params,
    ).result_rows[0]
    content_items, content_bytes = client.query(
        f"SELECT count(), sum(length(body)) FROM content {where}", parameters=params
    ).result_rows[0]
    tables = client.query(
        "SELECT table, sum(bytes_on_disk), sum(data_uncompressed_bytes) FROM system.parts "
        "WHERE active AND database = currentDatabase() AND table IN {tables:Array(String)} "
        "GROUP BY table",
        parameters={"tables": list(TABLES)},
    ).result_rows
    per_table = {
        name: {"bytes_on_disk": int(b), "uncompressed_bytes": int(u)} for name, b, u in tables
    }
    found = {
        "spans": int(spans),
        "runs": int(traces),
        "llm_calls": int(llm_calls),
        "content_items": int(content_items),
        "content_bytes": int(content_bytes or 0),
        "storage_bytes": sum(t["bytes_on_disk"] for t in per_table.values()),
        "tables": per_table,
    }
    if project and project_bytes:
        found["project_storage_bytes_estimate"] = project_bytes_estimate(
            client, project, {name: t["bytes_on_disk"] for name, t in per_table.items()}
        )
    return found


def project_bytes_estimate(client: Any, project: str, table_bytes: dict[str, int]) -> int:
    """``project``'s share of the bytes on disk: projects share parts, so each table's bytes
    are split by the project's share of its rows' uncompressed size (``byteSize``). An
    estimate: compression differs between projects' data. Reads every row of each table."""
    total = 0.0
    for table, on_disk in table_bytes.items():
        if not on_disk:
            continue
        mine, every = client.query(
            f"SELECT sumIf(byteSize(*), project = {{p:String}}), sum(byteSize(*)) FROM {table}",
            parameters={"p": project},
        ).result_rows[0]
        if every:
            total += on_disk * int(mine) / int(every)
    return round(total)


#: A run's columns from ``runs FINAL`` (one merged row per run).
_RUN_COLUMNS = f"""
    trace_id,
    start_time AS start,
    end_time AS end,
    toUInt64(greatest(0, toUnixTimestamp64Nano(end) - toUnixTimestamp64Nano(start))) AS duration_ns,
    root_name AS name,
    {SERVICE} AS service_,
    {AGENT} AS agent_,
    session AS session_,
    user AS user_,
    spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, reasoning_tokens,
    total_tokens AS total,
    cost_usd,
    models AS models_,
    has_root AS complete,
    providers AS providers_,
    environment AS environment_,
    setup_spans,
    first_error.2 AS error_type_,
    first_error.3 AS error_message_,
    rerun_of AS rerun_of_,
    rerun_from_call AS rerun_from_call_,
    rerun_divergence.1 AS diverged_at_,
    rerun_divergence.2 AS divergence_
"""


#: Exact-match run filters (on the columns of ``runs FINAL`` as the run list names them).
RUN_CONDITIONS = {
    name: f"{name}_ = {{{name}:String}}"
    for name in ("service", "agent", "session", "user", "environment")
}
RUN_CONDITIONS["model"] = "has(models_, {model:String})"
RUN_CONDITIONS["provider"] = "has(providers_, {provider:String})"


def list_runs(client: Any, f: RunFilter) -> dict[str, Any]:
    """One page of runs (one trace = one run), newest first unless asked otherwise."""
    if f.sort not in RUN_SORTS:
        raise BadQuery(f"sort must be one of {', '.join(RUN_SORTS)}")
    if f.status not in (None, "ok", "error"):
        raise BadQuery("status must be ok or error")
    check_page(f.limit, f.offset, MAX_PAGE)
    having, params = [IS_RUN], {"project": f.project, "limit": f.limit, "offset": f.offset}
    if f.start_from_ns is not None:
        having.append("start >= fromUnixTimestamp64Nano({start_from:Int64}, 'UTC')")
        params["start_from"] = f.start_from_ns
    if f.start_to_ns is not None:
        having.append("start < fromUnixTimestamp64Nano({start_to:Int64}, 'UTC')")
        params["start_to"] = f.start_to_ns
    for name, condition in RUN_CONDITIONS.items():
        if getattr(f, name) is not None:
            having.append(condition)
            params[name] = getattr(f, name)
    if f.q is not None:
        check_search(f.q)
        having.append(
            "(startsWith(trace_id, lower({q:String})) OR positionCaseInsensitiveUTF8(name, {q:String}) > 0 "
            "OR positionCaseInsensitiveUTF8(session_, {q:String}) > 0 "
            "OR positionCaseInsensitiveUTF8(user_, {q:String}) > 0)"
        )
        params["q"] = f.q
    if f.status == "error":
        having.append("errors > 0")
    elif f.status == "ok":
        having.append("errors = 0")
    order = f"{RUN_SORTS[f.sort]} {'DESC' if f.descending else 'ASC'}, trace_id"
    # FINAL merges each run's rows at read, and the conditions apply to whole runs; 2-4x
    # faster than grouping by trace at 10M spans (bench/dashboard.py). The page is chosen
    # reading only the columns it is filtered and sorted on, then read whole by trace id.
    sql = (
        "SELECT trace_id, count() OVER () AS total_runs FROM "
        f"(SELECT {_RUN_COLUMNS} FROM runs FINAL WHERE project = {{project:String}}) "
        f"WHERE {' AND '.join(having)} "
        f"ORDER BY {order} LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}"
    )
    page = client.query(sql, parameters=params).result_rows
    total = int(page[0][1]) if page else 0
    if not page and f.offset:
        total = _count_runs(client, sql, params)
    result = client.query(
        f"SELECT {_RUN_COLUMNS} FROM runs FINAL WHERE project = {{project:String}} "
        "AND trace_id IN {ids:Array(String)}",
        parameters={"project": f.project, "ids": [trace for trace, _ in page]},
    )
    found = {}
    for row in result.result_rows:
        record = dict(zip(result.column_names, row, strict=True))
        found[record["trace_id"]] = _run(record)
    runs = [found[trace] for trace, _ in page if trace in found]
    return {"runs": runs, "total": total, "limit": f.limit, "offset": f.offset}


def check_page(limit: int, offset: int, most: int) -> None:
    """A page of at most ``most`` rows from ``offset``, or :class:`BadQuery`."""
    if not 1 <= limit <= most:
        raise BadQuery(f"limit must be between 1 and {most}")
    if offset < 0:
        raise BadQuery("offset must be 0 or more")


def check_search(q: str) -> None:
    """Free text a search may hold (see :data:`SEARCH_TEXT`), or :class:`BadQuery`."""
    if not SEARCH_TEXT.match(q):
        raise BadQuery("q must be 1-200 letters, digits, spaces or - _ . : @ / + # = , characters")


def _count_runs(client: Any, sql: str, params: dict[str, Any]) -> int:
    inner = sql.split(" ORDER BY ")[0]
    return int(client.query(f"SELECT count() FROM ({inner})", parameters=params).result_rows[0][0])


def _run(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": r["trace_id"],
        "name": r["name"],
        "start_time": iso(r["start"]),
        "end_time": iso(r["end"]),
        "duration_ms": r["duration_ns"] / 1e6,
        "status": "error" if r["errors"] else "ok",
        "service": r["service_"],
        "agent": r["agent_"],
        "session": r["session_"],
        "user": r["user_"],
        "spans": r["spans"],
        "llm_calls": r["llm_calls"],
        "tool_calls": r["tool_calls"],
        "errors": r["errors"],
        "usage": {
            "input_tokens": r["input_tokens"],
            "output_tokens": r["output_tokens"],
            "cache_read_tokens": r["cache_read_tokens"],
            "cache_write_tokens": r["cache_write_tokens"],
            "reasoning_tokens": r["reasoning_tokens"],
            "total_tokens": r["total"],
        },
        "cost_usd": r["cost_usd"],
        "models": sorted(r["models_"]),
        "complete": bool(r["complete"]),
        # The run's first failing span (message cut to runtable.ERROR_MESSAGE_CHARS); null
        # for a run without errors or stored before migration 41.
        "error": {"type": r["error_type_"], "message": r["error_message_"]}
        if r["errors"] and (r["error_type_"] or r["error_message_"])
        else None,
        **_rerun(r),
    }


def _rerun(r: dict[str, Any]) -> dict[str, Any]:
    """What the run re-ran (migration 42): all null for a run that is not a re-run."""
    rerun = bool(r["rerun_of_"])
    diverged = rerun and r["diverged_at_"] != NO_DIVERGENCE
    return {
        "rerun_of": r["rerun_of_"] or None,
        "rerun_from_call": r["rerun_from_call_"] if rerun else None,
        "rerun_diverged_at": r["diverged_at_"] if diverged else None,
        "rerun_divergence": r["divergence_"] if diverged else None,
    }


def run_summary(client: Any, project: str, trace_id: str) -> dict[str, Any] | None:
    result = client.query(
        f"SELECT {_RUN_COLUMNS} FROM runs FINAL WHERE project = {{project:String}} "
        "AND trace_id = {trace:String}",
        parameters={"project": project, "trace": trace_id},
    )
    if not result.result_rows:
        return None
    return _run(dict(zip(result.column_names, result.result_rows[0], strict=True)))


#: How many of a run's re-runs its detail lists (the newest).
MAX_RERUNS = 100


def reruns(client: Any, project: str, trace_id: str) -> tuple[list[dict[str, Any]], int]:
    """The runs that re-ran ``trace_id``, newest first (at most :data:`MAX_RERUNS`), and how
    many there are."""
    # The inner read scans one column, '' for every run but re-runs; only the re-runs found
    # are read and merged. Grouped, not FINAL: 3x faster for a few runs among 2M (measured).
    result = client.query(
        "SELECT trace_id, min(start_time) AS start, sum(errors), max(rerun_from_call), "
        "min(rerun_divergence), count() OVER () FROM runs WHERE project = {project:String} "
        "AND trace_id IN (SELECT trace_id FROM runs WHERE project = {project:String} "
        "AND rerun_of = {trace:String}) "
        f"GROUP BY trace_id HAVING {IS_RUN_GROUPED} "
        f"ORDER BY start DESC, trace_id LIMIT {MAX_RERUNS}",
        parameters={"project": project, "trace": trace_id},
    )
    rows = [
        {
            "trace_id": trace,
            "start_time": iso(start),
            "status": "error" if errors else "ok",
            "from_call": from_call,
            "diverged_at": None if at == NO_DIVERGENCE else at,
            "divergence": None if at == NO_DIVERGENCE else what,
        }
        for trace, start, errors, from_call, (at, what), _ in result.result_rows
    ]
    return rows, int(result.result_rows[0][5]) if result.result_rows else 0


#: The columns of a span as a trace read returns them (see :mod:`.columns`).
SPAN_FIELD_NAMES = tuple(c.name for c in columns.READ)
_SPAN_FIELDS = ", ".join(c.read for c in columns.READ)


def trace_spans(client: Any, project: str, trace_id: str) -> list[dict[str, Any]]:
    """All spans of one trace in start order, raw column values by name."""
    # No FINAL (3-4x slower at 10M spans, measured): the writer refuses stored spans, and
    # the rare copy two collectors raced to write is folded here.
    result = client.query(
        f"SELECT {_SPAN_FIELDS} FROM spans WHERE project = {{project:String}} "
        "AND trace_id = {trace:String} ORDER BY start_time, span_id",
        parameters={"project": project, "trace": trace_id},
    )
    spans: dict[str, dict[str, Any]] = {}
    for row in result.result_rows:
        span = dict(zip(SPAN_FIELD_NAMES, row, strict=True))
        spans.setdefault(span["span_id"], span)
    return list(spans.values())


def trace_marker(client: Any, project: str, trace_id: str) -> tuple[Any, ...] | None:
    """What changes whenever a trace's stored data does: its spans' and message events' count
    and last ingest time, and its spans' cost (repricing updates cost in place, without a new
    ingest time). A cache of a run's derived answers is valid while this stays the same; None
    when no span of the trace is stored."""
    result = client.query(
        "SELECT (SELECT (count(), max(ingested_at), sum(cost_usd)) FROM spans "
        "WHERE project = {project:String} AND trace_id = {trace:String}), "
        "(SELECT (count(), max(ingested_at)) FROM message_events "
        "WHERE project = {project:String} AND trace_id = {trace:String})",
        parameters={"project": project, "trace": trace_id},
    )
    spans, events = result.result_rows[0]
    if not spans[0]:
        return None
    return (*spans, *events)


def trace_messages(client: Any, project: str, trace_id: str) -> list[dict[str, Any]]:
    """Messages of one trace that arrived as log events, in order."""
    result = client.query(
        "SELECT DISTINCT span_id, direction, ref, toString(event_name), time, seq "
        "FROM message_events WHERE project = {project:String} AND trace_id = {trace:String} "
        "ORDER BY span_id, time, seq",
        parameters={"project": project, "trace": trace_id},
    )
    return [
        {"span_id": s, "direction": d, "ref": r, "event_name": e}
        for s, d, r, e, _, _ in result.result_rows
    ]


def content(client: Any, project: str, hashes: set[bytes]) -> dict[bytes, bytes]:
    """Bodies of content items by hash (those that exist)."""
    return {h: body for h, (body, _) in content_items(client, project, hashes).items()}


def content_items(client: Any, project: str, hashes: set[bytes]) -> dict[bytes, tuple[bytes, str]]:
    """``{hash: (body, kind)}`` of the content items that exist."""
    if not hashes:
        return {}
    result = client.query(
        "SELECT hash, any(body), toString(any(kind)) FROM content "
        "WHERE project = {project:String} "
        "AND hash IN {hashes:Array(FixedString(16))} GROUP BY hash",
        parameters={"project": project, "hashes": sorted(hashes)},
    )
    return {_as_bytes(h): (_as_bytes(b), k) for h, b, k in result.result_rows}


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def iso(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.isoformat()).replace("+00:00", "Z")
    return str(value)


def iso_ns(ns: int) -> str:
    seconds, rest = divmod(int(ns), 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z"


def parse_json(text: str) -> Any:
    return orjson.loads(text) if text else []
