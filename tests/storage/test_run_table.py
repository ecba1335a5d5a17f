"""Migration 4 on a store made by the release before it: ``runs`` and ``run_rollup`` become one
per-run table, each run's figures carried over exactly, and every answer about the runs is
what a store made by this release gives for the same spans.

The old store is built here: a database of its own in the session's chDB store, the
migrations of that release applied, runs written through the real writer (in pieces, with
duplicates, nested calls, errors, decisions, an escalation, two projects) and a reprice
correction as that release wrote it, into both tables. A second database, made by this
release, gets the same spans and the same reprice (as this release does it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import clickhouse_connect
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.server.routes.aggregates import router as aggregate_router
from agentreel.server.routes.runs import router as runs_router
from agentreel.storage import alerts, daily, drift, queries, reprice, runtable, schema, scores
from agentreel.storage.costing import shipped_prices
from agentreel.storage.writer import Writer

from support.otlpbuild import kv, new_span_id, new_trace_id, span, traces
from support.store import StorePool

#: The migrations of the release before the one per-run table.
PREVIOUS = (1, 2, 3, 10, 20, 21, 40)
DAY1, DAY2 = "2026-03-02", "2026-03-03"
SECOND = 1_000_000_000


def _ns(day: str, hour: int) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp() * 1e9)


def _database(store: Any, monkeypatch: pytest.MonkeyPatch, versions: tuple[int, ...]) -> Any:
    """A client of a new database in the session's store, with these migrations applied."""
    database = f"upgrade_{uuid.uuid4().hex[:10]}"
    store.command(f"CREATE DATABASE {database}")
    client = clickhouse_connect.get_client(dsn=f"chdb://{store.path}", database=database)
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m.version in versions])
        assert schema.migrate(client) == list(versions)
    return client


@pytest.fixture
def stores(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """A store as the previous release left it, and one made by this release."""
    old = _database(store, monkeypatch, PREVIOUS)
    new = _database(store, monkeypatch, tuple(m.version for m in schema.MIGRATIONS))
    try:
        yield old, new
    finally:
        for client in (old, new):
            database = client.query("SELECT currentDatabase()").result_rows[0][0]
            client.close()
            store.command(f"DROP DATABASE IF EXISTS {database} SYNC")


def _llm(trace: bytes, parent: bytes, start: int, model: str, provider: str, **extra: Any) -> Any:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": extra.pop("input_tokens", 100),
        "gen_ai.usage.output_tokens": extra.pop("output_tokens", 10),
        **extra,
    }
    return span(trace, new_span_id(), f"chat {model}", attrs, parent=parent, start_ns=start)


def _tool(trace: bytes, parent: bytes, start: int, name: str, error: str = "") -> Any:
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    if error:
        attrs["error.type"] = error
    return span(trace, new_span_id(), f"execute_tool {name}", attrs, parent=parent, start_ns=start,
                status=2 if error else 0)  # fmt: skip


def _root(trace: bytes, root: bytes, start: int, agent: str, user: str, seconds: int) -> Any:
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}
    attrs |= {"user.id": user, "session.id": f"s-{user}"}
    return span(trace, root, f"invoke_agent {agent}", attrs, start_ns=start,
                duration_ns=seconds * SECOND)  # fmt: skip


Piece = tuple[str, str, str, list[Any]]  # service, environment, project, OTLP spans


class Runs:
    """Four runs of one project and one of another, as exporters deliver them."""

    def __init__(self) -> None:
        self.project, self.other = f"p-{uuid.uuid4().hex[:8]}", f"q-{uuid.uuid4().hex[:8]}"
        t1, t2, t3, t4, t5 = (new_trace_id() for _ in range(5))
        r1, r2, r3, r4, r5 = (new_span_id() for _ in range(5))
        s1, s2, s3, s4 = _ns(DAY1, 10), _ns(DAY1, 12), _ns(DAY2, 9), _ns(DAY2, 15)
        outer = _llm(t1, r1, s1 + SECOND, "gpt-4o", "openai", **{"gen_ai.response.id": "r-1"})
        # The same call seen again under it (a provider SDK's span): counted once, and its
        # model is among the run's models but not among its counted calls'.
        nested = _llm(t1, outer.span_id, s1 + SECOND, "gpt-4o-2024-08-06", "azure")
        self.pieces: list[Piece] = [
            ("svc-a", "prod", self.project, [outer, nested, _tool(t1, r1, s1 + 2 * SECOND, "search")]),
            ("svc-a", "prod", self.project, [_root(t1, r1, s1, "planner", "u1", 10)]),
            ("svc-a", "prod", self.project, [outer, nested]),  # delivered again
            ("svc-a", "prod", self.project, [
                _root(t2, r2, s2, "writer", "u2", 20),
                _llm(t2, r2, s2 + SECOND, "claude-sonnet-4-20250514", "anthropic",
                     input_tokens=1500, output_tokens=500,
                     **{"gen_ai.usage.cache_read.input_tokens": 300}),
                _tool(t2, r2, s2 + 2 * SECOND, "fetch", error="TimeoutError"),
                _tool(t2, r2, s2 + 3 * SECOND, "fetch", error="TimeoutError"),
            ]),
            ("svc-b", "staging", self.project, [_root(t3, r3, s3, "planner", "u1", 5)]),
            ("svc-b", "staging", self.project, [
                _llm(t3, r3, s3 + SECOND, "mystery-model", "openai"),
                _llm(t3, r3, s3 + 2 * SECOND, "gpt-4o-mini", "openai", input_tokens=50,
                     output_tokens=5, **{"gen_ai.usage.cost": 0.5}),
                span(t3, new_span_id(), "route",
                     {"agentreel.decision.name": "route", "agentreel.decision.chosen": "fast"},
                     parent=r3, start_ns=s3 + 3 * SECOND),
                span(t3, new_span_id(), "handoff",
                     {"agentreel.escalation.reason": "refund", "agentreel.escalation.target": "desk",
                      "agentreel.escalation.severity": "high"},
                     parent=r3, start_ns=s3 + 4 * SECOND),
            ]),
            # No root yet: an incomplete run with a failed call.
            ("svc-b", "staging", self.project, [
                span(t4, new_span_id(), "chat gpt-4o",
                     {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                      "gen_ai.request.model": "gpt-4o", "error.type": "RateLimitError"},
                     parent=r4, start_ns=s4 + SECOND, status=2),
            ]),
            ("svc-c", "prod", self.other, [
                _root(t5, r5, s1, "planner", "u9", 3), _llm(t5, r5, s1 + SECOND, "gpt-4o", "openai"),
            ]),
        ]  # fmt: skip
        self.ids = [t.hex() for t in (t1, t2, t3, t4)]
        #: The incomplete run's root, arriving late.
        self.late_root: Piece = (
            "svc-b", "staging", self.project, [_root(t4, r4, s4, "triage", "u3", 9)]
        )  # fmt: skip


def _write(client: Any, pieces: list[Piece]) -> None:
    """Each piece a batch of the real writer (one writer: one collector process)."""
    writer = Writer(client)
    for service, environment, project, spans in pieces:
        request = traces(spans, service=service)
        request.resource_spans[0].resource.attributes.append(
            kv("deployment.environment.name", environment)
        )
        decoded = decode_traces_proto(request.SerializeToString())
        writer.write(normalize_spans(decoded, project).spans, [])


def _new_price(client: Any, project: str, trace_id: str) -> None:
    """A call of the run repriced: the span's cost updated in place (as reprice does)."""
    client.command(
        f"ALTER TABLE spans UPDATE cost_usd = cost_usd + 0.25 WHERE project = '{project}' "
        f"AND trace_id = '{trace_id}' AND kind = 'llm' AND counted",
        settings={"mutations_sync": 2},
    )


def _previous_release_reconcile(client: Any, project: str, trace_id: str) -> None:
    """What the previous release's reprice then left: a row carrying the difference in each
    per-run table."""
    start = client.query(
        "SELECT min(start_time) FROM runs WHERE trace_id = {t:String}", parameters={"t": trace_id}
    ).result_rows[0][0]
    columns = ("project", "trace_id", "start_time", "end_time", "cost_usd")
    for table in ("run_rollup", "runs"):
        client.insert(table, [[project, trace_id, start, start, 0.25]], column_names=columns)


#: Each run's figures as the previous release held them (``runs``, then ``run_rollup``), and
#: the same figures in the merged table.
_RUNS_FIGURES = (
    "project, trace_id, start_time, end_time, root_name, service, agent, session, user, spans, "
    "llm_calls, tool_calls, errors, input_tokens, output_tokens, cache_read_tokens, "
    "cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, arraySort(models), has_root"
)
_ROLLUP_FIGURES = (
    "project, trace_id, start_time, end_time, root_name, service, {agent}, root_agent, user, "
    "session, environment, llm_calls, tool_calls, decisions, errors, llm_errors, tool_errors, "
    "cost_usd, arraySort({models}), arraySort(providers), error_counts"
)


def _figures(client: Any, table: str, columns: str) -> list[tuple[Any, ...]]:
    sql = f"SELECT {columns} FROM {table} FINAL ORDER BY project, trace_id"
    return [tuple(row) for row in client.query(sql).result_rows]


_RUN_QUERIES: list[dict[str, Any]] = [
    {},
    *({"sort": s, "order": o} for s in queries.RUN_SORTS for o in ("asc", "desc")),
    {"agent": "planner"},
    {"service": "svc-b"},
    {"status": "error"},
    {"status": "ok"},
    {"user": "u1"},
    {"session": "s-u2"},
    {"model": "gpt-4o-2024-08-06"},
    {"model": "gpt-4o"},
    {"provider": "anthropic"},
    {"provider": "azure"},
    {"environment": "staging"},
    {"environment": "prod", "model": "gpt-4o"},
    {"q": "writer"},
    {"start_from": f"{DAY2}T00:00:00Z"},
    {"limit": 2, "offset": 1, "sort": "cost"},
]
_RANGE = {"since": DAY1, "until": DAY2}
_FILTERS: list[dict[str, str]] = [
    {},
    {"agent": "planner"},
    {"agent": "writer"},
    {"model": "gpt-4o"},
    {"model": "gpt-4o-2024-08-06"},
    {"provider": "openai"},
    {"environment": "staging"},
    {"service": "svc-a"},
]
_AGGREGATES: list[tuple[str, dict[str, str]]] = [
    ("/overview", {}),
    ("/facets", {}),
    ("/failures/daily", {}),
    ("/steps/histogram", {}),
    ("/escalations", {}),
    ("/prices/unknown", {}),
    *(("/cost/daily", {"by": by}) for by in ("none", "model", "agent", "user", "provider")),
    *(("/failures/by", {"by": by}) for by in ("tool", "error_type", "agent")),
    *(("/routing", {"by": by}) for by in ("tool", "model", "decision")),
]


def _answers(client: Any, runs: Runs) -> dict[str, Any]:
    """Every answer about the runs: the REST API's and the store reads behind reports and
    alert rules."""
    app = FastAPI()
    pool = StorePool(client)
    app.include_router(runs_router(pool, lambda: runs.project))
    budgets, prices = (lambda: (1.0, 20.0)), shipped_prices
    app.include_router(aggregate_router(pool, lambda: runs.project, budgets, prices))
    out: dict[str, Any] = {}
    with TestClient(app) as api:

        def get(path: str, **params: Any) -> Any:
            response = api.get(f"/api/v1{path}", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        stats = get("/stats")
        out["stats"] = {k: v for k, v in stats.items() if k not in ("tables", "storage_bytes")}
        # A run's first error is new in migration 41 and not backfilled: runs stored before it
        # say `error: null` (checked apart); every other figure must stay.
        for params in _RUN_QUERIES:
            listed = get("/runs", **params)
            out[f"runs {params}"] = {**listed, "runs": [_no_error(r) for r in listed["runs"]]}
        for trace_id in runs.ids:
            one = get(f"/runs/{trace_id}")
            out[f"run {trace_id}"] = {**one, "run": _no_error(one["run"])}
            out[f"error {trace_id}"] = one["run"]["error"]
        for path, extra in _AGGREGATES:
            for filters in _FILTERS:
                out[f"{path} {extra} {filters}"] = get(path, **_RANGE, **extra, **filters)
    since, until = _ns(DAY1, 0), _ns(DAY2, 0) + 86_400 * SECOND
    for agent in (None, "planner"):
        out[f"alert cost {agent}"] = alerts.cost(client, runs.project, since, until, agent)
        out[f"alert errors {agent}"] = alerts.error_rate(client, runs.project, since, until, agent)
        for metric in ("run_cost", "steps_per_run"):
            found = alerts.runs_over(client, runs.project, metric, since, until, agent, 0.0)
            out[f"alert {metric} {agent}"] = sorted(found)
        out[f"drift {agent}"] = drift.choice_counts(
            client, runs.project, "tool", since, until, 86_400, agent
        )
    out["report by agent"] = daily.by_agent(client, runs.project, since, until)
    out["hallucination"] = scores.hallucination(
        client, runs.project, since, until, model="gpt-4o", names=["groundedness"]
    )
    return out


def _no_error(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "error"}


def _without_errors(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if not k.startswith("error ")}


def _tables(client: Any) -> set[str]:
    rows = client.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    return {name for (name,) in rows.result_rows}


def test_the_two_run_tables_become_one_and_every_answer_stays(
    stores: tuple[Any, Any],
) -> None:
    old, new = stores
    runs = Runs()
    for client in (old, new):
        _write(client, runs.pieces)
        _new_price(client, runs.project, runs.ids[0])
    _previous_release_reconcile(old, runs.project, runs.ids[0])
    assert reprice.reconcile(new, runs.project, runs.ids) == 1
    # A migration that stopped half-way once left its table being built behind.
    old.command(runtable.RUNS.format(name="runs_merged"))
    old.insert("runs_merged", [[runs.project, runs.ids[0], 99.0]],
               column_names=("project", "trace_id", "cost_usd"))  # fmt: skip
    assert {"runs", "run_rollup", "runs_mv", "run_rollup_mv"} <= _tables(old)
    held = _figures(old, "runs", _RUNS_FIGURES)
    rolled = _figures(old, "run_rollup", _ROLLUP_FIGURES.format(agent="any_agent", models="models"))

    assert schema.migrate(old) == [4, 41, 42, 43, 44, 45]

    assert not {"run_rollup", "run_rollup_mv", "runs_merged"} & _tables(old)
    assert _figures(old, "runs", _RUNS_FIGURES) == held
    merged = _ROLLUP_FIGURES.format(agent="agent", models="counted_models")
    assert _figures(old, "runs", merged) == rolled
    # The runs exercise what the two tables held apart, and the reprice correction.
    models = {row[1]: row[20] for row in held}
    assert models[runs.ids[0]] == ["gpt-4o", "gpt-4o-2024-08-06"]
    assert {row[1]: row[18] for row in rolled}[runs.ids[0]] == ["gpt-4o"]
    assert {row[1]: row[19] for row in held}[runs.ids[0]] > 0.25
    # Every answer is the one a store made by this release gives for the same spans.
    answers, made_new = _answers(old, runs), _answers(new, runs)
    assert _without_errors(answers) == _without_errors(made_new)
    assert answers["runs {}"]["total"] == 4 and answers["stats"]["llm_calls"] == 5
    # A failed run's first error: said by this release's store, null for runs stored before.
    failed = [t for t in runs.ids if made_new[f"run {t}"]["run"]["status"] == "error"]
    assert failed and all(made_new[f"error {t}"]["type"] for t in failed)
    assert all(answers[f"error {t}"] is None for t in runs.ids)
    # Running the migration's step again (a start interrupted after it) changes nothing.
    runtable.merge(old)
    assert _figures(old, "runs", _RUNS_FIGURES) == held


def test_the_merged_table_follows_new_spans(stores: tuple[Any, Any]) -> None:
    old, new = stores
    runs = Runs()
    _write(old, runs.pieces)
    schema.migrate(old)
    _write(new, runs.pieces)
    for client in (old, new):
        _write(client, [runs.late_root])
    answers = _answers(old, runs)
    assert _without_errors(answers) == _without_errors(_answers(new, runs))
    run = answers[f"run {runs.ids[3]}"]["run"]
    assert (run["complete"], run["agent"], run["spans"], run["user"]) == (True, "triage", 2, "u3")
    by_agent = answers["/failures/by {'by': 'agent'} {}"]["rows"]
    assert {"key": "triage", "errors": 1, "runs": 1} in by_agent


def test_a_run_across_two_processes_has_its_root_spans_service_and_agent(
    stores: tuple[Any, Any],
) -> None:
    """An MCP client and the server it calls export one run. The run's service and agent are
    the root span's (the client's), not the alphabetically last; before the root arrives,
    the earliest span's (for the agent, the earliest that names one)."""
    _, client = stores
    project, trace, root = f"p-{uuid.uuid4().hex[:8]}", new_trace_id(), new_span_id()
    start = _ns(DAY1, 10)
    call = _llm(trace, root, start + SECOND, "gpt-4o", "openai")
    server_tool = _tool(trace, call.span_id, start + 2 * SECOND, "lookup")
    server_tool.attributes.append(kv("gen_ai.agent.name", "zz-tool-server"))
    late_tool = _tool(trace, root, start + 3 * SECOND, "lookup")
    late_tool.attributes.append(kv("gen_ai.agent.name", "aa-late"))

    def run(service: str | None = None, agent: str | None = None) -> list[tuple[str, str]]:
        found = queries.list_runs(client, queries.RunFilter(project, service=service, agent=agent))
        return [(r["service"], r["agent"]) for r in found["runs"]]

    _write(client, [("zz-mcp-server", "prod", project, [server_tool, late_tool])])
    _write(client, [("agent-client", "prod", project, [call])])
    assert run() == [("agent-client", "zz-tool-server")]
    _write(
        client,
        [("agent-client", "prod", project, [_root(trace, root, start, "concierge", "u1", 9)])],
    )
    assert run() == [("agent-client", "concierge")]
    assert run(service="agent-client") == [("agent-client", "concierge")]
    assert run(service="zz-mcp-server") == []
    assert run(agent="concierge") == [("agent-client", "concierge")]
    since, until = _ns(DAY1, 0), _ns(DAY2, 0)
    # AutoGen exports building the agent as a trace of its own: stored, not a run.
    setup = span(new_trace_id(), new_span_id(), "create_agent zz-builder",
                 {"gen_ai.operation.name": "create_agent", "gen_ai.agent.name": "zz-builder"},
                 start_ns=start + 5 * SECOND)  # fmt: skip
    _write(client, [("agent-client", "prod", project, [setup])])
    assert run() == [("agent-client", "concierge")]
    assert [row["agent"] for row in daily.by_agent(client, project, since, until)] == ["concierge"]
    # A reprice writes correction rows that carry no service or agent: nothing changes.
    _new_price(client, project, trace.hex())
    assert reprice.reconcile(client, project, [trace.hex()]) == 1
    assert run() == [("agent-client", "concierge")]
    assert run(service="agent-client") == [("agent-client", "concierge")]
