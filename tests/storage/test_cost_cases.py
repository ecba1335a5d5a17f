"""The peers' cost bugs on the session's running server: a span with only input and output
tokens priced, the provider's own cost winning over the table, and a reprice after a price
change that a second run leaves as it is. Expected costs are computed by hand from the
provider's published prices on the span's day (USD per 1M tokens)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from support.liveserver import RunningServer
from support.otlpbuild import kv, new_span_id, new_trace_id, span, traces

SEP_1_2025 = int(datetime(2025, 9, 1, 12, tzinfo=UTC).timestamp() * 1e9)
MARCH_3_2025 = int(datetime(2025, 3, 3, 12, tzinfo=UTC).timestamp() * 1e9)


def _run(server: RunningServer, calls: list[dict[str, Any]], start_ns: int) -> dict[str, Any]:
    """Send one run (an agent span over these LLM spans); return its stored detail."""
    trace, root = new_trace_id(), new_span_id()
    spans = [
        span(trace, new_span_id(), "call_llm", attrs, parent=root, start_ns=start_ns + i)
        for i, attrs in enumerate(calls)
    ]
    spans.append(span(trace, root, "invoke_agent cost-cases", {}, start_ns=start_ns))
    request = traces(spans, service="cost-cases")
    request.resource_spans[0].resource.attributes.append(
        kv("deployment.environment.name", f"cost-{root.hex()}")
    )
    response = httpx.post(
        server.url + "/v1/traces",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
    )
    assert response.status_code == 200, response.text
    return server.get(f"/api/v1/runs/{trace.hex()}")  # type: ignore[no-any-return]


def _chat(provider: str, model: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    """A chat call's attributes as the current OTel GenAI conventions name them."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }


def _llm_spans(detail: dict[str, Any]) -> list[dict[str, Any]]:
    def walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [s for n in nodes for s in [n, *walk(n["children"])]]

    return [s for s in walk(detail["spans"]) if s["kind"] == "llm"]


def test_a_span_with_only_input_and_output_tokens_is_priced(server: RunningServer) -> None:
    # AgentOps showed $0 for Google ADK's spans: gen_ai.system, the model and two counts.
    # gemini-2.0-flash: 0.10 input, 0.40 output: 12,000 * 0.10 + 800 * 0.40 = 1,200 + 320.
    adk = {
        "gen_ai.system": "gcp.vertex.agent",
        "gen_ai.request.model": "gemini-2.0-flash",
        "gen_ai.usage.input_tokens": 12_000,
        "gen_ai.usage.output_tokens": 800,
    }
    # ADK on a thinking model: its output count is Gemini's candidates, the thoughts apart
    # (gemini-2.5-flash: 0.30 input, 2.50 output with thinking): 1,000 * 0.30 + (200 + 800)
    # * 2.50 = 300 + 2,500.
    thinking = {
        **adk,
        "gen_ai.request.model": "gemini-2.5-flash",
        "gen_ai.usage.input_tokens": 1_000,
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.usage.experimental.reasoning_tokens": 800,
    }
    detail = _run(server, [adk, thinking], SEP_1_2025)
    expected = (12_000 * 0.10 + 800 * 0.40) / 1e6 + (1_000 * 0.30 + 1_000 * 2.50) / 1e6
    assert detail["run"]["cost_usd"] == pytest.approx(expected)
    assert {call["cost_source"] for call in _llm_spans(detail)} == {"price_table"}


def test_the_providers_own_cost_wins_over_the_table(server: RunningServer) -> None:
    # A gateway's billed cost (OpenRouter, LiteLLM) is what was paid: kept as is, never
    # replaced by the table's figure (gpt-4o-mini's would be 1M * 0.15 = 0.15).
    genai = {**_chat("openrouter", "openai/gpt-4o-mini", 1_000_000, 0), "gen_ai.usage.cost": 0.1625}
    openinference = {
        "openinference.span.kind": "LLM",
        "llm.provider": "openai",
        "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": 1_000_000,
        "llm.token_count.completion": 0,
        "llm.cost.total": 0.2,
    }
    detail = _run(server, [genai, openinference], SEP_1_2025)
    assert sorted(s["cost_usd"] for s in _llm_spans(detail)) == pytest.approx([0.1625, 0.2])
    assert {s["cost_source"] for s in _llm_spans(detail)} == {"span"}
    assert detail["run"]["cost_usd"] == pytest.approx(0.3625)


def _reprice(server: RunningServer, day: str) -> dict[str, Any]:
    body = {"since": day, "until": day}
    response = httpx.post(server.url + "/api/v1/prices/reprice", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _overrides(server: RunningServer, entries: list[dict[str, Any]]) -> None:
    response = httpx.put(server.url + "/api/v1/prices/overrides", json=entries)
    assert response.status_code == 200, response.text


def test_reprice_after_a_price_change_is_idempotent(server: RunningServer) -> None:
    # mistral-small-latest on 2025-03-03: 0.10 input, 0.30 output (Mistral Small 3.1).
    call = _chat("mistral_ai", "mistral-small-latest", 1_000_000, 1_000_000)
    detail = _run(server, [call], MARCH_3_2025)
    trace_id, day = detail["run"]["trace_id"], "2025-03-03"
    assert detail["run"]["cost_usd"] == pytest.approx(0.10 + 0.30)
    kept = server.get("/api/v1/prices/overrides")["models"]
    changed = {"model": "mistral-small-latest", "input": 0.20, "output": 0.60}
    _overrides(server, [*kept, changed])
    try:
        first = _reprice(server, day)
        assert first["changed"] >= 1
        # 1M * 0.20 + 1M * 0.60, once: a second reprice finds nothing to change.
        again = _reprice(server, day)
        assert (again["changed"], again["runs_corrected"]) == (0, 0)
        run = server.get(f"/api/v1/runs/{trace_id}")["run"]
        assert run["cost_usd"] == pytest.approx(0.80)
        # The daily rollup moved once too (no other test calls this model on that day).
        daily = server.get("/api/v1/cost/daily", since=day, until=day, model="mistral-small-latest")
        assert sum(r["cost_usd"] for r in daily["rows"]) == pytest.approx(0.80)
    finally:
        _overrides(server, kept)
        _reprice(server, day)
    assert server.get(f"/api/v1/runs/{trace_id}")["run"]["cost_usd"] == pytest.approx(0.40)


def test_the_listing_names_each_called_models_source(server: RunningServer) -> None:
    model = "house-model-listing"
    _run(server, [_chat("acme", model, 1_000, 10), _chat("openai", "o3", 1_000, 10)], SEP_1_2025)
    listing = server.get("/api/v1/prices")
    data = listing["data"]
    assert (data["source"], data["version"], data["auto_update"]) == (
        "genai-prices",
        "0.2.5",
        False,
    )
    assert data["data_date"] <= datetime.now(UTC).date().isoformat()
    called = {(c["model"], c["provider"]): c for c in listing["called"]}
    unknown = called[(model, "acme")]
    assert (unknown["origin"], unknown["price"]) == ("unpriced", None)  # never a price of 0
    assert called[("o3", "openai")]["origin"] == "agentreel"  # a correction in prices.json
    assert {e["origin"] for e in listing["models"]} >= {"agentreel"}
