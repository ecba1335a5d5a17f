"""Scores in the store: writes, a run's scores, and the daily quality rollups (score trends,
the hallucination rate with its sample sizes, corrections, flagged runs).

A run's day, agent and models come from the ``runs`` table; scores are read ``FINAL`` so an
evaluator's newer verdict on a run replaces its older one (same ``score_id``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .queries import iso
from .runtable import AGENT_GROUPED, IS_RUN_GROUPED

#: Columns of the ``scores`` table that writers fill (``ingested_at`` is the store's).
COLUMNS = (
    "project",
    "trace_id",
    "span_id",
    "score_id",
    "time",
    "name",
    "kind",
    "data_type",
    "value",
    "label",
    "source",
    "comment",
    "explanation",
    "correction",
    "response_id",
    "details",
)
#: Columns of a score as the API shows it.
SCORE_FIELDS = COLUMNS[1:]


def insert(client: Any, rows: list[list[Any]]) -> None:
    """Write score rows (in the order of :data:`COLUMNS`)."""
    if rows:
        client.insert("scores", rows, column_names=COLUMNS)


def stored(
    client: Any, project: str, keys: Iterable[tuple[str, str]]
) -> tuple[set[str], set[tuple[str, str]]]:
    """Of these (trace id, span id or '') pairs: the trace ids that are stored runs, and the
    pairs whose span is stored."""
    pairs = set(keys)
    if not pairs:
        return set(), set()
    result = client.query(
        "SELECT trace_id, groupUniqArrayIf(span_id, span_id IN {spans:Array(String)}) "
        "FROM spans WHERE project = {p:String} AND trace_id IN {traces:Array(String)} "
        "GROUP BY trace_id",
        parameters={
            "p": project,
            "traces": sorted({t for t, _ in pairs}),
            "spans": sorted({s for _, s in pairs if s}),
        },
    )
    runs = {t for t, _ in result.result_rows}
    return runs, {(t, s) for t, spans in result.result_rows for s in spans}


def run_scores(client: Any, project: str, trace_id: str) -> list[dict[str, Any]]:
    result = client.query(
        f"SELECT {', '.join(SCORE_FIELDS)} FROM scores FINAL WHERE project = {{p:String}} "
        "AND trace_id = {t:String} ORDER BY time, name",
        parameters={"p": project, "t": trace_id},
    )
    out = []
    for row in result.result_rows:
        score = dict(zip(SCORE_FIELDS, row, strict=True))
        score["time"] = iso(score["time"])
        out.append(score)
    return out


def scores_by_run(
    client: Any, project: str, trace_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The run-level scores (kind ``score``) of these runs: ``{trace id: [{name, source, value,
    label}]}`` in name order; a run without scores is absent."""
    if not trace_ids:
        return {}
    result = client.query(
        "SELECT trace_id, name, source, value, label FROM scores FINAL "
        "WHERE project = {p:String} AND trace_id IN {t:Array(String)} AND kind = 'score' "
        "ORDER BY trace_id, name, source, time",
        parameters={"p": project, "t": list(trace_ids)},
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for trace, name, source, value, label in result.result_rows:
        score = {"name": name, "source": source, "value": value, "label": label or None}
        out.setdefault(trace, []).append(score)
    return out


def _runs_in(where: str) -> str:
    """Runs started in the range, with their agent and models (``where`` filters on them)."""
    return (
        "SELECT trace_id, min(start_time) AS start, "
        f"{AGENT_GROUPED} AS agent_, "
        "groupUniqArrayArray(models) AS models_ FROM runs WHERE project = {p:String} "
        f"GROUP BY trace_id HAVING {IS_RUN_GROUPED} "
        "AND start >= fromUnixTimestamp64Nano({since:Int64}, 'UTC') "
        f"AND start < fromUnixTimestamp64Nano({{until:Int64}}, 'UTC') {where}"
    )


def _filters(agent: str | None, model: str | None) -> tuple[str, dict[str, Any]]:
    where, params = "", {}
    if agent is not None:
        where += " AND agent_ = {agent:String}"
        params["agent"] = agent
    if model is not None:
        where += " AND has(models_, {model:String})"
        params["model"] = model
    return where, params


def hallucination(
    client: Any,
    project: str,
    since_ns: int,
    until_ns: int,
    agent: str | None = None,
    model: str | None = None,
    *,
    names: Sequence[str],
    inverted: Sequence[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Evaluated and flagged runs per day, and per day, agent and model. A run is evaluated
    when a score named in ``names`` judged it, flagged when any of them failed it: a value
    below 0.5, or for the ``inverted`` names (a detector's "hallucinated" score) 0.5 or more."""
    where, extra = _filters(agent, model)
    params = {"p": project, "since": since_ns, "until": until_ns, "names": list(names), **extra}
    params["inverted"] = list(inverted)
    judged = (
        "SELECT trace_id, max(bad) AS flagged, groupUniqArrayIf(name, bad) AS by FROM ("
        "SELECT trace_id, name, if(name IN {inverted:Array(String)}, value >= 0.5, value < 0.5) "
        "AS bad FROM scores FINAL WHERE project = {p:String} AND kind = 'score' "
        "AND name IN {names:Array(String)} AND value IS NOT NULL) GROUP BY trace_id"
    )
    base = f"SELECT * FROM ({judged}) AS s INNER JOIN ({_runs_in(where)}) AS r USING trace_id"
    daily = client.query(
        f"SELECT toDate(start) AS day, count(), countIf(flagged) FROM ({base}) "
        "GROUP BY day ORDER BY day",
        parameters=params,
    ).result_rows
    detail = client.query(
        f"SELECT toDate(start) AS day, agent_, model, count(), countIf(flagged) FROM ({base}) "
        "ARRAY JOIN if(empty(models_), [''], models_) AS model "
        "GROUP BY day, agent_, model ORDER BY day, agent_, model",
        parameters=params,
    ).result_rows
    flagged = client.query(
        f"SELECT trace_id, start, agent_, models_, by FROM ({base}) WHERE flagged "
        "ORDER BY start DESC LIMIT 200",
        parameters=params,
    ).result_rows
    return {
        "daily": [_rate({"day": str(d)}, n, f) for d, n, f in daily],
        "rows": [_rate({"day": str(d), "agent": a, "model": m}, n, f) for d, a, m, n, f in detail],
        "flagged_runs": [
            {"trace_id": t, "start_time": iso(s), "agent": a, "models": sorted(m), "by": sorted(b)}
            for t, s, a, m, b in flagged
        ],
    }


def _rate(row: dict[str, Any], evaluated: int, flagged: int) -> dict[str, Any]:
    row.update(evaluated=int(evaluated), flagged=int(flagged))
    row["rate"] = flagged / evaluated if evaluated else None
    return row


def score_trends(
    client: Any,
    project: str,
    since_ns: int,
    until_ns: int,
    agent: str | None = None,
    model: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Per day (of the run) and score name: how many, the mean value, the most common label;
    and corrections per day."""
    where, extra = _filters(agent, model)
    params = {"p": project, "since": since_ns, "until": until_ns, **extra}
    base = (
        "SELECT * FROM (SELECT trace_id, name, kind, source, value, label FROM scores FINAL "
        f"WHERE project = {{p:String}}) AS s INNER JOIN ({_runs_in(where)}) AS r USING trace_id"
    )
    trends = client.query(
        "SELECT toDate(start) AS day, name, source, count(), avg(value), "
        f"topKIf(1)(label, label != '') FROM ({base}) WHERE kind = 'score' "
        "GROUP BY day, name, source ORDER BY day, name, source",
        parameters=params,
    ).result_rows
    corrections = client.query(
        f"SELECT toDate(start) AS day, count(), uniqExact(trace_id) FROM ({base}) "
        "WHERE kind = 'correction' GROUP BY day ORDER BY day",
        parameters=params,
    ).result_rows
    return {
        "scores": [
            {
                "day": str(d),
                "name": n,
                "source": s,
                "count": int(c),
                "mean": None if mean is None else float(mean),
                "top_label": top[0] if top else None,
            }
            for d, n, s, c, mean, top in trends
        ],
        "corrections": [
            {"day": str(d), "corrections": int(c), "runs": int(r)} for d, c, r in corrections
        ],
    }


def settled_traces(
    client: Any, after_ms: int, settle_seconds: float, limit: int = 200
) -> list[tuple[str, str, int]]:
    """``(project, trace id, last ingestion ms)`` of runs that received spans after
    ``after_ms`` and none in the last ``settle_seconds``, oldest first."""
    result = client.query(
        "SELECT project, trace_id, toUnixTimestamp64Milli(max(ingested_at)) AS last FROM spans "
        "WHERE ingested_at > fromUnixTimestamp64Milli({after:Int64}, 'UTC') "
        "GROUP BY project, trace_id "
        "HAVING last <= toUnixTimestamp64Milli(now64(3)) - {settle:Float64} * 1000 "
        "ORDER BY last, trace_id LIMIT {limit:UInt32}",
        parameters={"after": after_ms, "settle": settle_seconds, "limit": limit},
    )
    return [(str(p), str(t), int(last)) for p, t, last in result.result_rows]


def pending_runs(client: Any, project: str, after_ms: int, rate: float) -> int:
    """Runs of ``project`` that received spans after ``after_ms`` and are in a ``rate``
    sample by trace id (the online evaluator's deterministic sample, computed here as
    :func:`agentreel.signals.evaluators.sampled` does): what it has still to evaluate."""
    if rate <= 0:
        return 0
    # The first 8 hex digits of the trace id as a big-endian number, over 2^32.
    in_sample = (
        "1"
        if rate >= 1
        else "reinterpretAsUInt32(reverse(unhex(substring(trace_id, 1, 8)))) "
        "/ 4294967296 < {rate:Float64}"
    )
    rows = client.query(
        "SELECT uniqExact(trace_id) FROM spans WHERE project = {p:String} "
        f"AND ingested_at > fromUnixTimestamp64Milli({{after:Int64}}, 'UTC') AND {in_sample}",
        parameters={"p": project, "after": after_ms, "rate": rate},
    ).result_rows
    return int(rows[0][0])


def last_evaluated_ms(client: Any, name: str) -> int:
    """When the evaluator ``name`` last scored a run (ms), 0 if never."""
    rows = client.query(
        "SELECT toUnixTimestamp64Milli(max(time)) FROM scores WHERE name = {n:String}",
        parameters={"n": name},
    ).result_rows
    return int(rows[0][0] or 0)
