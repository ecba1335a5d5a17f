"""The dashboard's aggregate endpoints and repricing, on a real chDB store, against numbers
worked out by hand from the runs each test sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.server.routes.aggregates import router as aggregate_router
from agentreel.server.routes.prices import router as price_router
from agentreel.storage import aggregates
from agentreel.storage.costing import PriceBook
from agentreel.storage.price_overrides import ProjectPrices
from agentreel.storage.scope import make_scope
from agentreel.storage.writer import Writer

from support.otlpbuild import kv, new_span_id, new_trace_id, span, traces
from support.store import StorePool

DAY1, DAY2 = "2026-03-02", "2026-03-03"
RANGE = {"since": DAY1, "until": DAY2}


def _ns(day: str, hour: int) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp() * 1e9)


def _llm(trace: bytes, parent: bytes, start: int, model: str, provider: str, **usage: Any) -> Any:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        **{f"gen_ai.usage.{k}": v for k, v in usage.items()},
    }
    return span(trace, new_span_id(), f"chat {model}", attrs, parent=parent, start_ns=start)


def _tool(trace: bytes, parent: bytes, start: int, name: str, error: str = "") -> Any:
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    if error:
        attrs["error.type"] = error
    return span(trace, new_span_id(), f"execute_tool {name}", attrs, parent=parent, start_ns=start)


class Runs:
    """Three runs over two days, written the way exporters deliver them: the children of a
    run first, its root (which names the agent and user) in a later batch."""

    def __init__(self, store: Any, book: PriceBook, project: str) -> None:
        self.project = project
        writer = Writer(store, lambda _: book.table)
        self.ids: list[str] = []
        t1, t2, t3 = new_trace_id(), new_trace_id(), new_trace_id()
        r1, r2, r3 = new_span_id(), new_span_id(), new_span_id()
        s1, s2, s3 = _ns(DAY1, 10), _ns(DAY1, 12), _ns(DAY2, 9)
        second = 1_000_000_000
        gpt4o = {"input_tokens": 1000, "output_tokens": 100, "cache_read.input_tokens": 200}
        batches = [
            (
                "svc-a",
                "prod",
                [
                    _llm(t1, r1, s1 + second, "gpt-4o", "openai", **gpt4o),
                    _llm(
                        t1,
                        r1,
                        s1 + 3 * second,
                        "gpt-4o-2024-08-06",
                        "openai",
                        input_tokens=2000,
                        output_tokens=300,
                    ),
                    _tool(t1, r1, s1 + 2 * second, "search"),
                ],
            ),
            ("svc-a", "prod", [self._root(t1, r1, s1, "planner", "u1", 10)]),
            (
                "svc-a",
                "prod",
                [
                    _llm(
                        t2,
                        r2,
                        s2 + second,
                        "claude-sonnet-4-20250514",
                        "anthropic",
                        input_tokens=1500,
                        output_tokens=500,
                        **{"cache_read.input_tokens": 300, "cache_creation.input_tokens": 200},
                    ),
                    _tool(t2, r2, s2 + 2 * second, "fetch", error="TimeoutError"),
                    self._root(t2, r2, s2, "writer", "u2", 20),
                ],
            ),
            (
                "svc-b",
                "staging",
                [
                    _llm(
                        t3,
                        r3,
                        s3 + second,
                        "mystery-model",
                        "openai",
                        input_tokens=100,
                        output_tokens=10,
                    ),
                    _llm(
                        t3,
                        r3,
                        s3 + 2 * second,
                        "gpt-4o-mini",
                        "openai",
                        input_tokens=50,
                        output_tokens=5,
                        cost=0.5,
                    ),
                    span(
                        t3,
                        new_span_id(),
                        "route",
                        {"agentreel.decision.name": "route", "agentreel.decision.chosen": "fast"},
                        parent=r3,
                        start_ns=s3 + 3 * second,
                    ),
                    span(
                        t3,
                        new_span_id(),
                        "handoff",
                        {
                            "agentreel.escalation.reason": "refund",
                            "agentreel.escalation.target": "support",
                            "agentreel.escalation.severity": "high",
                        },
                        parent=r3,
                        start_ns=s3 + 4 * second,
                    ),
                    self._root(t3, r3, s3, "planner", "u1", 5),
                ],
            ),
        ]
        for service, environment, spans in batches:
            request = traces(spans, service=service)
            request.resource_spans[0].resource.attributes.append(
                kv("deployment.environment.name", environment)
            )
            decoded = decode_traces_proto(request.SerializeToString())
            writer.write(normalize_spans(decoded, project).spans, [])
        self.ids = [t.hex() for t in (t1, t2, t3)]

    @staticmethod
    def _root(trace: bytes, root: bytes, start: int, agent: str, user: str, seconds: int) -> Any:
        attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}
        attrs["user.id"] = user
        return span(
            trace,
            root,
            f"invoke_agent {agent}",
            attrs,
            start_ns=start,
            duration_ns=seconds * 1_000_000_000,
        )


# Hand-computed cost (USD per 1M tokens from the providers' price pages):
# gpt-4o 2.50 in / 1.25 cached / 10 out: (800*2.5 + 200*1.25 + 100*10) + (2000*2.5 + 300*10)
GPT4O = (2000 + 250 + 1000 + 5000 + 3000) / 1e6
# claude-sonnet-4 3 in / 0.30 cache read / 3.75 cache write / 15 out; the stored 1500 input
# tokens include the 500 cache tokens (OTel semantics), so 1000 are plain input.
SONNET = (1000 * 3 + 300 * 0.3 + 200 * 3.75 + 500 * 15) / 1e6
MINI_FROM_SPAN = 0.5


@pytest.fixture
def api(store: Any, tmp_path: Path) -> Iterator[tuple[TestClient, Runs, PriceBook]]:
    project = f"p-{uuid.uuid4().hex[:8]}"
    book = PriceBook(tmp_path / "prices.json")
    runs = Runs(store, book, project)
    app = FastAPI()
    pool = StorePool(store)
    prices = ProjectPrices(book, pool.get)
    app.include_router(
        aggregate_router(pool, lambda: project, lambda: (1.0, 0.0), lambda: prices.table(project))
    )
    app.include_router(price_router(pool, lambda: project, prices))
    with TestClient(app) as client:
        yield client, runs, book


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1{path}", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_cost_per_day_by_model_agent_and_provider(api: Any) -> None:
    client, _, _ = api
    rows = _get(client, "/cost/daily", by="model")["rows"]
    by = {(r["day"], r["key"]): r for r in rows}
    assert set(by) == {
        (DAY1, "gpt-4o"),
        (DAY1, "gpt-4o-2024-08-06"),
        (DAY1, "claude-sonnet-4-20250514"),
        (DAY2, "mystery-model"),
        (DAY2, "gpt-4o-mini"),
    }
    assert by[(DAY1, "gpt-4o")]["cost_usd"] + by[(DAY1, "gpt-4o-2024-08-06")]["cost_usd"] == (
        pytest.approx(GPT4O)
    )
    sonnet = by[(DAY1, "claude-sonnet-4-20250514")]
    assert sonnet["cost_usd"] == pytest.approx(SONNET)
    assert (sonnet["input_tokens"], sonnet["cache_read_tokens"], sonnet["cache_write_tokens"]) == (
        1500,
        300,
        200,
    )
    # Savings: cached tokens at their price instead of the input price; writes cost more.
    assert sonnet["cache_savings_usd"] == pytest.approx((300 * 2.7 - 200 * 0.75) / 1e6)
    assert by[(DAY1, "gpt-4o")]["cache_savings_usd"] == pytest.approx(200 * 1.25 / 1e6)
    assert (
        by[(DAY2, "mystery-model")]["cost_usd"] == 0
        and by[(DAY2, "mystery-model")]["llm_calls"] == 1
    )
    assert by[(DAY2, "gpt-4o-mini")]["cost_usd"] == pytest.approx(MINI_FROM_SPAN)

    agents = {
        (r["day"], r["key"]): r["cost_usd"] for r in _get(client, "/cost/daily", by="agent")["rows"]
    }
    # The agent sits on the root span, written after the calls: still their agent.
    assert agents == pytest.approx(
        {(DAY1, "planner"): GPT4O, (DAY1, "writer"): SONNET, (DAY2, "planner"): 0.5}
    )
    providers = {
        (r["day"], r["key"]): r["cost_usd"]
        for r in _get(client, "/cost/daily", by="provider")["rows"]
    }
    assert providers == pytest.approx(
        {(DAY1, "openai"): GPT4O, (DAY1, "anthropic"): SONNET, (DAY2, "openai"): 0.5}
    )
    users = _get(client, "/cost/daily", by="user", environment="prod")["rows"]
    assert {(r["day"], r["key"]): r["llm_calls"] for r in users} == {
        (DAY1, "u1"): 2,
        (DAY1, "u2"): 1,
    }
    total = _get(client, "/cost/daily")["rows"]
    assert [(r["day"], r["key"]) for r in total] == [(DAY1, ""), (DAY2, "")]
    assert total[0]["cost_usd"] == pytest.approx(GPT4O + SONNET)


def test_overview_failures_steps_routing_escalations(api: Any) -> None:
    client, runs, _ = api
    overview = _get(client, "/overview")
    assert (overview["runs"], overview["failed_runs"]) == (3, 1)
    assert overview["error_rate"] == pytest.approx(1 / 3)
    assert (overview["llm_calls"], overview["tool_calls"]) == (5, 2)
    assert overview["cost_usd"] == pytest.approx(GPT4O + SONNET + 0.5)
    assert overview["p95_latency_ms"] == 20_000
    assert overview["today"]["budget_usd"] == 1.0 and overview["month"]["budget_usd"] is None
    only_4o = _get(client, "/overview", model="gpt-4o")
    assert (only_4o["runs"], only_4o["cost_usd"]) == (1, pytest.approx(3250 / 1e6))

    daily = _get(client, "/failures/daily")["rows"]
    assert daily == [
        {
            "day": DAY1,
            "runs": 2,
            "failed_runs": 1,
            "llm_errors": 0,
            "tool_errors": 1,
            "error_rate": 0.5,
        },
        {
            "day": DAY2,
            "runs": 1,
            "failed_runs": 0,
            "llm_errors": 0,
            "tool_errors": 0,
            "error_rate": 0.0,
        },
    ]
    assert _get(client, "/failures/by", by="tool")["rows"] == [
        {"key": "fetch", "errors": 1, "runs": 1}
    ]
    assert _get(client, "/failures/by", by="error_type")["rows"] == [
        {"key": "TimeoutError", "errors": 1, "runs": 1}
    ]
    assert _get(client, "/failures/by", by="agent")["rows"] == [
        {"key": "writer", "errors": 1, "runs": 1}
    ]
    steps = _get(client, "/steps/histogram")
    assert steps == {
        "buckets": [{"steps": 2, "runs": 1}, {"steps": 3, "runs": 2}],
        "limit": 10,
        "over_limit": 0,
    }
    tools = _get(client, "/routing", by="tool")["rows"]
    assert tools == [
        {"day": DAY1, "agent": "planner", "choice": "search", "count": 1},
        {"day": DAY1, "agent": "writer", "choice": "fetch", "count": 1},
    ]
    decisions = _get(client, "/routing", by="decision")["rows"]
    assert decisions == [{"day": DAY2, "agent": "planner", "choice": "route: fast", "count": 1}]
    models = {
        (r["agent"], r["choice"]): r["count"] for r in _get(client, "/routing", by="model")["rows"]
    }
    assert (
        models[("planner", "gpt-4o")] == 1 and models[("writer", "claude-sonnet-4-20250514")] == 1
    )
    escalations = _get(client, "/escalations")["rows"]
    assert [
        (e["trace_id"], e["agent"], e["reason"], e["target"], e["severity"]) for e in escalations
    ] == [(runs.ids[2], "planner", "refund", "support", "high")]
    assert _get(client, "/escalations", environment="prod")["rows"] == []


def test_facets_and_filter_checks(api: Any) -> None:
    client, _, _ = api
    facets = _get(client, "/facets")
    assert facets["services"] == ["svc-a", "svc-b"]
    assert facets["agents"] == ["planner", "writer"]
    assert facets["environments"] == ["prod", "staging"]
    assert facets["providers"] == ["anthropic", "openai"]
    assert "mystery-model" in facets["models"] and facets["first_time"].startswith(DAY1)
    assert _get(client, "/facets", since="2020-01-01", until="2020-01-02")["agents"] == []
    for params, message in [
        ({"agent": "nobody"}, "unknown agent 'nobody'"),
        ({"model": "gpt-5' OR 1=1 --"}, "unknown model"),
        ({"since": DAY2, "until": DAY1}, "until must be after since"),
        ({"since": "yesterday"}, "since must be"),
        ({"by": "weather"}, "by must be one of"),
    ]:
        response = client.get("/api/v1/cost/daily", params={**RANGE, **params})
        assert response.status_code == 400 and message in response.json()["detail"], response.text


def test_unknown_models_then_override_and_reprice(api: Any, store: Any) -> None:
    client, runs, book = api
    unknown = _get(client, "/prices/unknown")["models"]
    assert [(m["model"], m["provider"], m["llm_calls"]) for m in unknown] == [
        ("mystery-model", "openai", 1)
    ]
    entries = [
        {"model": "mystery-model", "provider": "openai", "input": 10, "output": 100},
        {"model": "gpt-4o", "provider": "openai", "input": 1, "output": 1, "cache_read": 1},
    ]
    # A missing field is refused by the schema (422), a bad date by the price table (400).
    assert client.put("/api/v1/prices/overrides", json=[{"model": "x"}]).status_code == 422
    bad = [{"model": "x", "input": 1, "output": 1, "effective_from": "soon"}]
    refused = client.put("/api/v1/prices/overrides", json=bad)
    assert refused.status_code == 400 and "body[0].effective_from" in refused.json()["detail"]
    nameless = [{"model": "@x", "input": 1, "output": 1}]  # matches no call (the fuzz test's)
    refused = client.put("/api/v1/prices/overrides", json=nameless)
    assert refused.status_code == 400 and "not a model name" in refused.json()["detail"]
    assert client.put("/api/v1/prices/overrides", json=[{**nameless[0], "input": True}]).is_error
    listed = client.put("/api/v1/prices/overrides", json=entries).json()["models"]
    assert [m["model"] for m in listed if m["override"]] == ["gpt-4o", "mystery-model"]
    # The project's own overrides, stored in the store: the server's price file is untouched.
    mine = client.get("/api/v1/prices/overrides").json()["models"]
    assert sorted(m["model"] for m in mine) == ["gpt-4o", "mystery-model"]
    assert book.path is not None and not book.path.exists()
    response = client.post("/api/v1/prices/reprice", json={"since": DAY1, "until": DAY2})
    assert response.status_code == 200, response.text
    done = response.json()
    # Both gpt-4o calls, and the mystery call; not the span's own cost, not Claude's price.
    assert (done["changed"], done["unknown"], done["runs_corrected"]) == (3, 0, 2)
    mystery = (100 * 10 + 10 * 100) / 1e6
    new_4o = (1000 + 100 + 2000 + 300) / 1e6
    agents = {
        (r["day"], r["key"]): r["cost_usd"] for r in _get(client, "/cost/daily", by="agent")["rows"]
    }
    assert agents == pytest.approx(
        {(DAY1, "planner"): new_4o, (DAY1, "writer"): SONNET, (DAY2, "planner"): 0.5 + mystery}
    )
    assert _get(client, "/prices/unknown")["models"] == []
    # The run list reads the runs table, corrected too; and a second reprice changes nothing.
    scope = make_scope(runs.project, DAY1, DAY2, {})
    assert aggregates.overview(store, scope, (0, 0))["cost_usd"] == pytest.approx(
        new_4o + SONNET + 0.5 + mystery
    )
    listed_cost = store.query(
        "SELECT sum(cost_usd) FROM runs WHERE project = {p:String}", parameters={"p": runs.project}
    ).result_rows[0][0]
    assert listed_cost == pytest.approx(new_4o + SONNET + 0.5 + mystery)
    again = client.post("/api/v1/prices/reprice", json={"since": DAY1, "until": DAY2}).json()
    assert (again["changed"], again["runs_corrected"]) == (0, 0)
    sources = store.query(
        "SELECT toString(model), toString(cost_source), cost_usd FROM spans WHERE project = {p:String} "
        "AND kind = 'llm' ORDER BY model",
        parameters={"p": runs.project},
    ).result_rows
    assert [(m, s) for m, s, _ in sources] == [
        ("claude-sonnet-4-20250514", "price_table"),
        ("gpt-4o", "price_table"),
        ("gpt-4o-2024-08-06", "price_table"),
        ("gpt-4o-mini", "span"),
        ("mystery-model", "price_table"),
    ]


def test_overview_today_and_month(store: Any, tmp_path: Path) -> None:
    project = f"p-{uuid.uuid4().hex[:8]}"
    book = PriceBook(tmp_path / "prices.json")
    Runs(store, book, project)
    now = datetime(2026, 3, 3, 12, tzinfo=UTC)
    scope = make_scope(project, DAY1, DAY2, {}, now=now)
    out = aggregates.overview(store, scope, (2.0, 30.0), now=now)
    assert out["today"] == {"cost_usd": pytest.approx(0.5), "budget_usd": 2.0}
    month = GPT4O + SONNET + 0.5
    assert out["month"]["cost_usd"] == pytest.approx(month)
    # 2.5 days into a 31-day month.
    assert out["month"]["projected_usd"] == pytest.approx(month / 2.5 * 31)
