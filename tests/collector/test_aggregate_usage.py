"""Usage on an agent or workflow span is its calls' usage summed: counted once, in every
convention.

Each run here is a root span carrying the run's total (as the GenAI conventions allow an
``invoke_agent`` span to, OpenInference AGENT/CHAIN spans and OpenLLMetry workflow spans do)
over three model calls. The run's tokens and cost must be the three calls' own, summed by
hand here; the root's total is kept as an attribute. gpt-4o-mini on 2025-09-01: USD 0.15 per
1M input tokens, 0.60 per 1M output tokens.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from support.liveserver import RunningServer
from support.otlpbuild import new_span_id, new_trace_id, span, traces

START = int(datetime(2025, 9, 1, 12, tzinfo=UTC).timestamp() * 1e9)
CALLS = [(1_200, 300), (2_500, 40), (4_000, 700)]
INPUT = sum(i for i, _ in CALLS)  # 7,700
OUTPUT = sum(o for _, o in CALLS)  # 1,040
COST = (INPUT * 0.15 + OUTPUT * 0.60) / 1e6  # (1,155 + 624) / 1e6


def _genai_call(i: int, o: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": i,
        "gen_ai.usage.output_tokens": o,
    }


def _openinference_call(i: int, o: int) -> dict[str, Any]:
    return {
        "openinference.span.kind": "LLM",
        "llm.provider": "openai",
        "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": i,
        "llm.token_count.completion": o,
        "llm.token_count.total": i + o,
    }


def _openllmetry_call(i: int, o: int) -> dict[str, Any]:
    return {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.prompt_tokens": i,
        "gen_ai.usage.completion_tokens": o,
        "llm.usage.total_tokens": i + o,
    }


#: Per convention: the root's name and attributes (carrying the total), and a call's.
CONVENTIONS: dict[str, tuple[str, dict[str, Any], Any]] = {
    "genai_invoke_agent": (
        "invoke_agent helper",
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "helper",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": INPUT,
            "gen_ai.usage.output_tokens": OUTPUT,
        },
        _genai_call,
    ),
    "genai_workflow": (
        "invoke_workflow pipeline",
        {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.usage.input_tokens": INPUT,
            "gen_ai.usage.output_tokens": OUTPUT,
        },
        _genai_call,
    ),
    # No operation attribute: the span name still says it is an agent, so the rule that a
    # span with a model and tokens is a model call must not take it for one.
    "genai_agent_named_only": (
        "invoke_agent helper",
        {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": INPUT,
            "gen_ai.usage.output_tokens": OUTPUT,
        },
        _genai_call,
    ),
    "openinference_agent": (
        "Agent.run",
        {
            "openinference.span.kind": "AGENT",
            "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": INPUT,
            "llm.token_count.completion": OUTPUT,
            "llm.token_count.total": INPUT + OUTPUT,
            "llm.cost.total": COST,
        },
        _openinference_call,
    ),
    "openinference_chain": (
        "RunnableSequence",
        {
            "openinference.span.kind": "CHAIN",
            "llm.token_count.prompt": INPUT,
            "llm.token_count.completion": OUTPUT,
        },
        _openinference_call,
    ),
    "openllmetry_workflow": (
        "pipeline.workflow",
        {
            "traceloop.span.kind": "workflow",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.prompt_tokens": INPUT,
            "gen_ai.usage.completion_tokens": OUTPUT,
            "llm.usage.total_tokens": INPUT + OUTPUT,
        },
        _openllmetry_call,
    ),
    "openllmetry_agent": (
        "helper.agent",
        {
            "traceloop.span.kind": "agent",
            "traceloop.entity.name": "helper",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": INPUT,
            "gen_ai.usage.output_tokens": OUTPUT,
        },
        _openllmetry_call,
    ),
}


@pytest.fixture(scope="module")
def runs(server: RunningServer) -> dict[str, dict[str, Any]]:
    """Every convention's run, sent in one request; each one's stored detail."""
    spans, traces_of = [], {}
    for offset, (name, (root_name, root_attrs, call)) in enumerate(CONVENTIONS.items()):
        trace, root = new_trace_id(), new_span_id()
        traces_of[name] = trace.hex()
        start = START + offset * 1_000_000_000
        spans.append(span(trace, root, root_name, root_attrs, start_ns=start, duration_ns=10**9))
        spans.extend(
            span(
                trace,
                new_span_id(),
                "chat gpt-4o-mini",
                call(i, o),
                parent=root,
                start_ns=start + 1 + n,
            )
            for n, (i, o) in enumerate(CALLS)
        )
    response = httpx.post(
        server.url + "/v1/traces",
        content=traces(spans, service="aggregate-usage").SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert "partialSuccess" not in response.text or "rejected" not in response.text
    return {name: server.get(f"/api/v1/runs/{t}") for name, t in traces_of.items()}


def _walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for n in nodes for s in [n, *_walk(n["children"])]]


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_run_totals_are_the_calls_own(runs: dict[str, Any], convention: str) -> None:
    run = runs[convention]["run"]
    assert run["llm_calls"] == len(CALLS)
    usage = run["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (INPUT, OUTPUT)
    assert usage["total_tokens"] == INPUT + OUTPUT
    assert run["cost_usd"] == pytest.approx(COST)


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_the_roots_total_is_kept_as_an_attribute(runs: dict[str, Any], convention: str) -> None:
    (root,) = [s for s in _walk(runs[convention]["spans"]) if not s["parent_span_id"]]
    assert root["kind"] in ("agent", "chain")
    assert (root["usage"]["input_tokens"], root["usage"]["output_tokens"]) == (0, 0)
    kept = json.loads(root["attributes"]["agentreel.aggregate_usage"])
    assert (kept["input_tokens"], kept["output_tokens"]) == (INPUT, OUTPUT)
