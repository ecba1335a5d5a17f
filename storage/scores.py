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


#: Who may overrule the evaluators on a run: a person's verdict decides alone.
HUMAN_SOURCES = ("human", "user_feedback")


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
    """Checked, flagged and unchecked runs per day, and per day, agent and model.

    A run is checked when a score named in ``names`` judged it with a value, or a user
    corrected its answer; flagged when any of them failed it (a value below 0.5, or for the
    ``inverted`` names, a detector's "hallucinated" score, 0.5 or more; a correction always).
    A person's verdict (source human or user_feedback, or a correction) decides alone when
    there is one. A run whose only verdict is ``unchecked`` (nothing in it to check) is
    counted apart: it is in no rate's n. ``rate`` is flagged over checked."""
    where, extra = _filters(agent, model)
    params = {"p": project, "since": since_ns, "until": until_ns, "names": list(names), **extra}
    params["inverted"] = list(inverted)
    params["human"] = list(HUMAN_SOURCES)
    verdicts = (
        "SELECT trace_id, name, label, kind = 'correction' OR value IS NOT NULL AS valued, "
        "kind = 'correction' OR source IN {human:Array(String)} AS human, "
        "kind = 'correction' OR if(name IN {inverted:Array(String)}, value >= 0.5, value < 0.5) "
        "AS bad FROM scores FINAL WHERE project = {p:String} AND (kind = 'correction' OR "
        "(kind = 'score' AND name IN {names:Array(String)}))"
    )
    judged = (
        "SELECT trace_id, countIf(valued AND human) > 0 AS by_human, "
        "countIf(valued) > 0 AS checked, "
        "if(by_human, countIf(bad AND valued AND human), countIf(bad AND valued)) > 0 AS flagged, "
        "if(by_human, groupUniqArrayIf(name, bad AND valued AND human), "
        "groupUniqArrayIf(name, bad AND valued)) AS by, "
        f"NOT checked AND countIf(label = 'unchecked') > 0 AS unchecked FROM ({verdicts}) "
        "GROUP BY trace_id HAVING checked OR unchecked"
    )
    base = f"SELECT * FROM ({judged}) AS s INNER JOIN ({_runs_in(where)}) AS r USING trace_id"
    counts = "countIf(checked), countIf(flagged AND checked), countIf(unchecked)"
    daily = client.query(
        f"SELECT toDate(start) AS day, {counts} FROM ({base}) GROUP BY day ORDER BY day",
        parameters=params,
    ).result_rows
    detail = client.query(
        f"SELECT toDate(start) AS day, agent_, model, {counts} FROM ({base}) "
        "ARRAY JOIN if(empty(models_), [''], models_) AS model "
        "GROUP BY day, agent_, model ORDER BY day, agent_, model",
        parameters=params,
    ).result_rows
    flagged = client.query(
        f"SELECT trace_id, start, agent_, models_, by FROM ({base}) WHERE flagged AND checked "
        "ORDER BY start DESC LIMIT 200",
        parameters=params,
    ).result_rows
    return {
        "daily": [_rate({"day": str(d)}, n, f, u) for d, n, f, u in daily],
        "rows": [
            _rate({"day": str(d), "agent": a, "model": m}, n, f, u) for d, a, m, n, f, u in detail
        ],
        "flagged_runs": [
            {"trace_id": t, "start_time": iso(s), "agent": a, "models": sorted(m), "by": sorted(b)}
            for t, s, a, m, b in flagged
        ],
    }


def _rate(row: dict[str, Any], evaluated: int, flagged: int, unchecked: int) -> dict[str, Any]:
    """``evaluated`` is the rate's n (checked runs); ``unchecked_share`` is of all runs an
    evaluator looked at."""
    row.update(evaluated=int(evaluated), flagged=int(flagged), unchecked=int(unchecked))
    row["rate"] = flagged / evaluated if evaluated else None
    seen = int(evaluated) + int(unchecked)
    row["unchecked_share"] = unchecked / seen if seen else None
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
