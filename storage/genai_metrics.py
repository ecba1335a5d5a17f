"""GenAI client metrics (OTLP ``gen_ai.client.*`` histograms): stored points, and sums.

Points are stored as the client reported them (:class:`~agentreel.core.model.MetricPoint`).
Sums over a window are derived here, honestly per temporality:

- a *delta* point counts what happened between its start and its time: delta points whose
  time falls in the window are added up;
- a *cumulative* point counts everything since its series started (``start_time``; a restart
  begins a new series with a new start). Per series (its attributes, service and start), the
  window's figure is its last point in the window minus the last point before the window,
  or the last point itself when the series started inside the window. Adding cumulative
  points up would count every export again.

A point is one row per series and time (ReplacingMergeTree, read ``FINAL``): an exporter's
retry of a request that was stored, or a spool replay after a crash, stores nothing twice.

A duration's p50 is read from the merged buckets (linear within the bucket holding the
middle observation): an estimate as good as the client's bucket bounds, never a measured
value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentreel.core.model import MetricPoint

TABLE = "genai_metric_points"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
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
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (project, metric, time, start_time, service, operation, provider, request_model,
          response_model, token_type, error_type)
"""

_COLUMNS = [
    "project",
    "metric",
    "service",
    "temporality",
    "start_time",
    "time",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "token_type",
    "error_type",
    "count",
    "sum",
    "bounds",
    "bucket_counts",
]
#: What identifies a series (with the metric, project and start time).
_SERIES = (
    "service",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "token_type",
    "error_type",
)


def insert_points(client: Any, points: Sequence[MetricPoint]) -> None:
    rows = [
        [
            p.project,
            p.metric,
            p.service,
            p.temporality,
            p.start_ns,
            p.time_ns,
            p.operation,
            p.provider,
            p.request_model,
            p.response_model,
            p.token_type,
            p.error_type,
            p.count,
            p.sum,
            p.bounds,
            p.bucket_counts,
        ]
        for p in points
    ]
    client.insert(TABLE, rows, column_names=_COLUMNS)


def summary(client: Any, project: str, since_ns: int, until_ns: int) -> dict[str, Any]:
    """Per model and operation: input/output token sums and the duration's count, sum and
    p50 over ``[since, until)``, from the client-reported points (see the module doc)."""
    rows = client.query(
        f"SELECT metric, temporality, toUnixTimestamp64Nano(start_time) AS start, "
        f"toUnixTimestamp64Nano(time) AS t, {', '.join(_SERIES)}, count, sum, bounds, "
        f"bucket_counts FROM {TABLE} FINAL "
        "WHERE project = {project:String} AND toUnixTimestamp64Nano(time) < {until:Int64} "
        "ORDER BY t",
        parameters={"project": project, "until": until_ns},
    ).named_results()
    # (metric, series..., start) -> [last point before the window, last point in it]
    cumulative: dict[tuple[Any, ...], list[dict[str, Any] | None]] = {}
    figures: list[tuple[dict[str, Any], int, float, list[float], list[int]]] = []
    for row in rows:
        if row["temporality"] == "delta":
            if row["t"] >= since_ns:
                figures.append(
                    (row, row["count"], row["sum"], row["bounds"], list(row["bucket_counts"]))
                )
            continue
        key = (row["metric"], *(row[c] for c in _SERIES), row["start"])
        slot = cumulative.setdefault(key, [None, None])
        slot[0 if row["t"] < since_ns else 1] = row
    for before, last in cumulative.values():
        if last is None:
            continue  # no point in the window: nothing happened in it that was reported
        if before is None or last["start"] >= since_ns:
            base_count, base_sum, base_buckets = 0, 0.0, [0] * len(last["bucket_counts"])
        else:
            base_count, base_sum = before["count"], before["sum"]
            base_buckets = list(before["bucket_counts"])
            if len(base_buckets) != len(last["bucket_counts"]):
                base_buckets = [0] * len(last["bucket_counts"])
        buckets = [a - b for a, b in zip(last["bucket_counts"], base_buckets, strict=True)]
        figures.append(
            (last, last["count"] - base_count, last["sum"] - base_sum, last["bounds"], buckets)
        )
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row, count, total, bounds, buckets in figures:
        model = row["response_model"] or row["request_model"]
        key = (row["provider"], model, row["operation"])
        group = groups.setdefault(
            key,
            {
                "provider": key[0],
                "model": key[1],
                "operation": key[2],
                "input_tokens": 0,
                "output_tokens": 0,
                "other_tokens": 0,
                "duration": {"count": 0, "sum_s": 0.0, "bounds": None, "buckets": None},
            },
        )
        if row["metric"] == "token.usage":
            kind = {"input": "input_tokens", "output": "output_tokens"}.get(
                row["token_type"], "other_tokens"
            )
            group[kind] += round(total)
        else:
            duration = group["duration"]
            duration["count"] += count
            duration["sum_s"] += total
            _merge_buckets(duration, list(bounds), buckets)
    out = []
    for group in sorted(groups.values(), key=lambda g: (g["provider"], g["model"], g["operation"])):
        duration = group["duration"]
        duration["p50_s"] = _quantile(duration.pop("bounds"), duration.pop("buckets"), 0.5)
        out.append(group)
    return {
        "groups": out,
        "input_tokens": sum(g["input_tokens"] for g in out),
        "output_tokens": sum(g["output_tokens"] for g in out),
        "calls": sum(g["duration"]["count"] for g in out),
    }


def _merge_buckets(duration: dict[str, Any], bounds: list[float], buckets: list[int]) -> None:
    """Add ``buckets`` into the group's; points with other bounds make the p50 unknown."""
    if not bounds:
        return
    if duration["bounds"] is None:
        duration["bounds"], duration["buckets"] = bounds, buckets
    elif duration["bounds"] == bounds and duration["buckets"] is not None:
        duration["buckets"] = [a + b for a, b in zip(duration["buckets"], buckets, strict=True)]
    else:
        duration["buckets"] = None


def _quantile(bounds: list[float] | None, buckets: list[int] | None, q: float) -> float | None:
    """The ``q`` quantile estimated from explicit-bucket counts; None when unknown or when it
    falls in the open last bucket (no upper bound to interpolate to)."""
    if not bounds or not buckets or sum(buckets) == 0:
        return None
    target = q * sum(buckets)
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= target:
            if index >= len(bounds):
                return None
            low = bounds[index - 1] if index else 0.0
            return low + (bounds[index] - low) * (target - seen) / count
        seen += count
    return None
