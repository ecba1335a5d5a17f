"""The SDK's API in one process, spans kept in memory: decorators on every kind of
function, nested runs, scores on live runs, the manual LLM span, and the Responses API
(against a small local server speaking it, as the fake provider does not)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentreel import sdk


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    memory, provider = InMemorySpanExporter(), TracerProvider()
    sdk.init(exporter=memory, tracer_provider=provider)
    yield memory
    sdk.shutdown()
    provider.shutdown()


def finished(memory: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    sdk.force_flush(5)
    return {s.name: s for s in memory.get_finished_spans()}


@sdk.tool
def add(a: int, b: int = 0) -> int:
    return a + b


@sdk.tool(name="lookup", capture_content=False)
async def secret_lookup(key: str) -> str:
    return "secret value"


@sdk.tool
def countdown(n: int) -> Iterator[int]:
    yield from range(n, 0, -1)


@sdk.tool
async def pages(n: int) -> AsyncIterator[str]:
    for i in range(n):
        yield f"page {i}"


@sdk.tool
def fails() -> None:
    raise KeyError("no such order")


def test_tools_of_every_kind(spans: InMemorySpanExporter) -> None:
    async def async_part() -> list[str]:
        assert await secret_lookup("k") == "secret value"
        return [p async for p in pages(2)]

    with sdk.run("tools", session="s-1") as run:
        assert add(2, b=3) == 5
        assert list(countdown(3)) == [3, 2, 1]
        assert asyncio.run(async_part()) == ["page 0", "page 1"]
        with pytest.raises(KeyError):
            fails()
    got = finished(spans)
    attrs = {name: dict(span.attributes or {}) for name, span in got.items()}
    assert attrs["execute_tool add"]["gen_ai.tool.call.arguments"] == '{"a": 2, "b": 3}'
    assert attrs["execute_tool add"]["gen_ai.tool.call.result"] == "5"
    assert attrs["execute_tool countdown"]["gen_ai.tool.call.result"] == "[3, 2, 1]"
    assert attrs["execute_tool pages"]["gen_ai.tool.call.result"] == '["page 0", "page 1"]'
    assert "gen_ai.tool.call.arguments" not in attrs["execute_tool lookup"]
    assert "gen_ai.tool.call.result" not in attrs["execute_tool lookup"]
    failed = got["execute_tool fails"]
    assert failed.status.status_code.name == "ERROR"
    assert attrs["execute_tool fails"]["error.type"] == "KeyError"
    assert all(a["session.id"] == "s-1" for a in attrs.values())
    assert all(
        s.parent is not None and s.parent.span_id == run.span.get_span_context().span_id
        for n, s in got.items()
        if n != "invoke_agent tools"
    )
    assert run.steps == 5


def test_nested_runs_and_agents_charge_their_parents(spans: InMemorySpanExporter) -> None:
    @sdk.agent(name="researcher", max_llm_calls=1)
    def researcher() -> None:
        for _ in range(2):
            with sdk.llm_call("claude-haiku-4-5", provider="anthropic") as call:
                call.record(
                    "x", usage={"input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 50}
                )

    with (
        sdk.run("lead", user="u-1", metadata={"ticket": 42}) as lead,
        pytest.raises(sdk.BudgetExceeded, match="researcher"),
    ):
        researcher()
    assert lead.llm_calls == 1 and lead.cost_usd > 0
    got = finished(spans)
    inner = got["invoke_agent researcher"]
    assert inner.parent is not None and inner.parent.span_id == lead.span.get_span_context().span_id
    llm = dict(got["chat claude-haiku-4-5"].attributes or {})
    assert llm["user.id"] == "u-1" and llm["agentreel.metadata.ticket"] == 42
    assert llm["gen_ai.agent.name"] == "researcher"
    assert llm["gen_ai.usage.input_tokens"] == 150  # OTel: Anthropic's cache reads included
    assert llm["gen_ai.usage.cache_read.input_tokens"] == 50
    assert dict(inner.attributes or {})["agentreel.budget.breach"] == "max_llm_calls"


def test_scores_go_on_a_live_run_and_on_a_span_by_ids(spans: InMemorySpanExporter) -> None:
    with sdk.run("scored") as run:
        sdk.score("grounded", 0.5, label="partly", source="heuristic")
    sdk.feedback((run.trace_id, run.span_id), correction="Paris is in France")
    got = finished(spans)
    (event,) = got["invoke_agent scored"].events
    assert event.name == "gen_ai.evaluation.result"
    assert dict(event.attributes or {}) == {
        "gen_ai.evaluation.name": "grounded",
        "agentreel.score.source": "heuristic",
        "agentreel.score.kind": "score",
        "gen_ai.evaluation.score.value": 0.5,
        "gen_ai.evaluation.score.label": "partly",
    }
    carrier = got["agentreel.score"]
    assert carrier.context is not None and carrier.context.trace_id == int(run.trace_id, 16)
    assert carrier.parent is not None and carrier.parent.span_id == int(run.span_id, 16)
    correction = dict(carrier.events[0].attributes or {})
    assert correction["agentreel.score.kind"] == "correction"
    assert correction["agentreel.score.correction"] == "Paris is in France"


# --- Responses API ----------------------------------------------------------------------------

RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1700000000,
    "status": "completed",
    "model": "gpt-4.1-mini-2025-04-14",
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "output": [
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_9",
            "name": "add",
            "arguments": '{"a":1,"b":2}',
            "status": "completed",
        },
    ],
    "usage": {
        "input_tokens": 40,
        "output_tokens": 12,
        "input_tokens_details": {"cached_tokens": 8},
        "output_tokens_details": {"reasoning_tokens": 4},
        "total_tokens": 52,
    },
}


class ResponsesHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if body.get("stream"):
            events = [
                {
                    "type": "response.created",
                    "sequence_number": 0,
                    "response": {**RESPONSE, "status": "in_progress", "output": []},
                },
                {"type": "response.completed", "sequence_number": 1, "response": RESPONSE},
            ]
            payload = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
            content_type = "text/event-stream"
        else:
            payload, content_type = json.dumps(RESPONSE), "application/json"
        data = payload.encode()
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def responses_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponsesHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("stream", [False, True])
def test_responses_api_calls_are_llm_spans(
    spans: InMemorySpanExporter, responses_api: str, stream: bool
) -> None:
    tool = {"type": "function", "name": "add", "parameters": {"type": "object"}}
    with (
        openai.OpenAI(base_url=responses_api, api_key="test", max_retries=0) as client,
        sdk.run("responses") as run,
    ):
        kwargs: dict[str, Any] = {
            "model": "gpt-4.1-mini",
            "instructions": "Be brief.",
            "input": "1+2?",
            "tools": [tool],
            "max_output_tokens": 50,
        }
        if stream:
            with client.responses.create(**kwargs, stream=True) as events:
                assert [e.type for e in events][-1] == "response.completed"
        else:
            assert client.responses.create(**kwargs).output[0].type == "function_call"
        assert add(1, 2) == 3
    got = finished(spans)
    llm = dict(got["chat gpt-4.1-mini"].attributes or {})
    assert llm["gen_ai.provider.name"] == "openai"
    assert llm["gen_ai.request.max_tokens"] == 50
    assert json.loads(str(llm["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(str(llm["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "1+2?"}]}
    ]
    assert json.loads(str(llm["gen_ai.tool.definitions"])) == [tool]
    assert json.loads(str(llm["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "finish_reason": "tool_calls",
            "parts": [
                {"type": "tool_call", "id": "call_9", "name": "add", "arguments": '{"a":1,"b":2}'}
            ],
        }
    ]
    assert (
        llm["gen_ai.usage.input_tokens"],
        llm["gen_ai.usage.cache_read.input_tokens"],
        llm["gen_ai.usage.reasoning.output_tokens"],
    ) == (40, 8, 4)
    assert llm["gen_ai.response.id"] == "resp_1"
    # The tool the model asked for gets its call id and the model's exact arguments.
    tool_span = dict(got["execute_tool add"].attributes or {})
    assert tool_span["gen_ai.tool.call.id"] == "call_9"
    assert tool_span["gen_ai.tool.call.arguments"] == '{"a":1,"b":2}'
    assert run.llm_calls == 1 and run.cost_usd > 0


def test_structured_output_parse_calls_are_traced(spans: InMemorySpanExporter) -> None:
    from support.fakeprovider import Answer, FakeProvider

    with (
        FakeProvider([Answer('{"city": "Paris"}')]) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as client,
        sdk.run("parse") as run,
    ):
        format_ = {"type": "json_schema", "json_schema": {"name": "city", "schema": {}}}
        client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "?"}],
            response_format=format_,  # type: ignore[arg-type]
        )
    llm = dict(finished(spans)["chat gpt-4o-mini"].attributes or {})
    assert json.loads(str(llm["gen_ai.request.response_format"])) == format_
    assert '"content":"{\\"city\\": \\"Paris\\"}"' in str(llm["gen_ai.output.messages"])
    assert run.llm_calls == 1
