"""Derived data re-derived from the spans (storage/rederive.py): a write cut short at any
point, then recovered and written again as the spool replay does, leaves every run and rollup
table as a write that was never interrupted; a full rebuild gives them back from the spans.

Each test has a database of its own in the session's chDB store. The fault is injected by
making the named crash point raise instead of killing the process (the live-server test in
tests/collector/test_crash_consistency.py kills for real).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import clickhouse_connect
import pytest

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.core.model import Batch
from agentreel.storage import crashpoints, rederive, rollups, schema
from agentreel.storage.writer import Writer

from support.otlpbuild import new_span_id, new_trace_id, span, traces

SECOND = 1_000_000_000


def _ns(day: str, hour: int) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp() * 1e9)


@pytest.fixture
def database(store: Any) -> Iterator[Any]:
    """A client of a new, migrated database in the session's store."""
    name = f"rederive_{uuid.uuid4().hex[:10]}"
    store.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=f"chdb://{store.path}", database=name)
    schema.migrate(client)
    try:
        yield client
    finally:
        client.close()
        store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _requests() -> list[tuple[str, bytes]]:
    """(project, OTLP request) pairs: runs over two days and two projects, a root arriving
    after its calls, a call delivered twice, a nested call, tool errors, a decision, an
    escalation and an evaluation event."""
    day1, day2 = _ns("2026-03-02", 10), _ns("2026-03-03", 23)
    t1, t2, t3 = new_trace_id(), new_trace_id(), new_trace_id()
    r1, r2, r3 = new_span_id(), new_span_id(), new_span_id()
    llm = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
           "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 120,
           "gen_ai.usage.output_tokens": 30, "gen_ai.response.id": "resp-1"}  # fmt: skip
    call = span(t1, new_span_id(), "chat gpt-4o", llm, parent=r1, start_ns=day1 + SECOND)
    nested = span(t1, new_span_id(), "chat", llm | {"gen_ai.request.model": "gpt-4o-2024"},
                  parent=call.span_id, start_ns=day1 + SECOND)  # fmt: skip
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch",
            "error.type": "TimeoutError"}  # fmt: skip
    root = {"gen_ai.operation.name": "invoke_agent", "user.id": "u1"}
    evaluation = {"gen_ai.evaluation.name": "helpful", "gen_ai.evaluation.score.value": 0.5}
    scored = span(t2, r2, "invoke_agent writer", root | {"gen_ai.agent.name": "writer"},
                  start_ns=day2, duration_ns=5 * SECOND,
                  events=[("gen_ai.evaluation.result", evaluation)])  # fmt: skip
    batches = [
        [call, nested, span(t1, new_span_id(), "fetch", tool, parent=r1, start_ns=day1 + 2 * SECOND,
                            status=2)],
        [span(t1, r1, "invoke_agent planner", root | {"gen_ai.agent.name": "planner"},
              start_ns=day1, duration_ns=9 * SECOND)],
        [call],  # delivered again
        [scored, span(t2, new_span_id(), "chat", llm | {"gen_ai.response.id": "resp-2"}, parent=r2,
                      start_ns=day2 + 2 * SECOND),
         span(t2, new_span_id(), "route", {"agentreel.decision.name": "route",
                                           "agentreel.decision.chosen": "fast"},
              parent=r2, start_ns=day2 + 3 * SECOND),
         span(t2, new_span_id(), "handoff", {"agentreel.escalation.reason": "refund",
                                             "agentreel.escalation.target": "desk"},
              parent=r2, start_ns=day2 + 4 * SECOND)],
        [span(t3, r3, "invoke_agent other", root | {"gen_ai.agent.name": "other"}, start_ns=day1),
         span(t3, new_span_id(), "chat", llm | {"gen_ai.response.id": "resp-3"}, parent=r3,
              start_ns=day1 + SECOND)],
    ]  # fmt: skip
    projects = ["p1", "p1", "p1", "p1", "p2"]
    return [
        (project, traces(spans, service="svc").SerializeToString())
        for project, spans in zip(projects, batches, strict=True)
    ]


def _batch(project: str, body: bytes) -> Batch:
    """Decoded again each time, as the spool replay decodes its records."""
    return normalize_spans(decode_traces_proto(body), project)


#: Each derived table read merged per key, without the all-zero rows a move leaves behind.
_SNAPSHOTS = {
    "runs": "SELECT * EXCEPT (models, counted_models, providers), arraySort(models), "
    "arraySort(counted_models), arraySort(providers) FROM runs FINAL ORDER BY project, trace_id",
    "step_daily": "SELECT project, day, dim, key, agent, service, environment, provider, "
    "sum(calls) AS c, sum(errors), sum(input_tokens), sum(output_tokens), round(sum(cost_usd), 9) "
    "AS cost, sum(unpriced) FROM step_daily GROUP BY ALL HAVING c != 0 OR cost != 0 ORDER BY ALL",
    "user_daily": "SELECT project, day, user, agent, model, sum(calls) AS c, "
    "round(sum(cost_usd), 9) AS cost FROM user_daily GROUP BY ALL HAVING c != 0 OR cost != 0 "
    "ORDER BY ALL",
    "facet_values": "SELECT project, field, value, min(first_seen), max(last_seen), sum(spans) "
    "FROM facet_values GROUP BY ALL ORDER BY ALL",
    "escalation_rows": "SELECT DISTINCT * FROM escalation_rows ORDER BY ALL",
    "scores": "SELECT project, trace_id, span_id, score_id, name, value FROM scores FINAL "
    "ORDER BY ALL",
}


def _snapshot(client: Any) -> dict[str, list[Any]]:
    return {table: client.query(sql).result_rows for table, sql in _SNAPSHOTS.items()}


def _written(client: Any) -> tuple[list[tuple[str, bytes]], dict[str, list[Any]]]:
    """The requests, each written whole by one writer, and the derived tables they leave."""
    requests = _requests()
    writer = Writer(client)
    for request in requests:
        writer.write(_batch(*request).spans, [])
    return requests, _snapshot(client)


def _fail_at(point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def reached(name: str) -> None:
        if name == point:
            raise SystemExit(f"crash at {name}")

    monkeypatch.setattr(crashpoints, "reached", reached)


@pytest.mark.parametrize("point", ["views", "spans", "step_daily", "rollups"])
def test_a_write_cut_short_is_recovered_exactly(
    database: Any, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests, expected = _written(database)
    cut = 2  # two requests stored whole before the one cut short
    assert expected["runs"] and expected["scores"] and expected["escalation_rows"]
    for table in (*rederive.TABLES, "scores", "spans"):
        database.command(f"TRUNCATE TABLE {table}")

    writer = Writer(database)
    for request in requests[:cut]:
        writer.write(_batch(*request).spans, [])
    with monkeypatch.context() as patch:
        _fail_at("spans" if point == "views" else point, patch)
        with pytest.raises(SystemExit):
            writer.write(_batch(*requests[cut]).spans, [])
    if point == "views":
        # Killed inside the spans insert: the spans part written, the views' parts not.
        cut_runs = sorted({s.trace_id for s in _batch(*requests[cut]).spans})
        params = {"t": cut_runs}
        for table in ("runs", "escalation_rows"):
            database.command(
                f"DELETE FROM {table} WHERE trace_id IN {{t:Array(String)}}", parameters=params
            )
        database.command(
            "DELETE FROM facet_values WHERE (field, value) IN (SELECT facet.1, facet.2 FROM spans "
            f"ARRAY JOIN {rollups.FACET_PAIRS} AS facet WHERE trace_id IN {{t:Array(String)}})",
            parameters=params,
        )
    # The next start: a new writer, recovery of the unfinished records, then their replay.
    unfinished = requests[cut:]
    done = rederive.recover(database, [_batch(*r) for r in unfinished])
    assert done.runs >= 1
    writer = Writer(database)
    for request in unfinished:
        writer.write(_batch(*request).spans, [])
    assert _snapshot(database) == expected


def test_a_crash_during_recovery_is_recovered_at_the_next_start(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests, expected = _written(database)
    with monkeypatch.context() as patch:
        _fail_at("rederive", patch)
        with pytest.raises(SystemExit):
            rederive.recover(database, [_batch(*r) for r in requests])
    assert _snapshot(database)["runs"] != expected["runs"]  # deleted, not filled yet
    rederive.recover(database, [_batch(*r) for r in requests])
    assert _snapshot(database) == expected


def test_recovering_runs_that_were_whole_changes_nothing(database: Any) -> None:
    requests, expected = _written(database)
    rederive.recover(database, [_batch(*r) for r in requests])
    rederive.recover(database, [_batch(*r) for r in requests[2:]])
    assert _snapshot(database) == expected


def test_rebuild_gives_back_every_derived_table_from_the_spans(database: Any) -> None:
    _, expected = _written(database)
    # Damaged as a kill after the spans insert left stores before recovery existed.
    for table in rederive.TABLES:
        database.command(f"DELETE FROM {table} WHERE project = 'p1'")
    lines: list[str] = []
    done = rederive.rebuild(database, lines.append)
    assert _snapshot(database) == expected
    assert done.runs == 3 and done.spans == 10
    assert lines == ["2026-03: 10 spans of 3 runs"]
