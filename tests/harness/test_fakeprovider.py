"""The fake provider speaks enough OpenAI and Anthropic for the real clients and agent loops."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from support.agents import ToolImpl, run_anthropic_agent, run_openai_agent
from support.fakeprovider import Answer, FakeProvider, Parallel, ToolCall, Turn
from support.paths import PAYLOADS
from support.payloads import scenario
from support.payloads.capture import CONFIGS


def _openai_expected(raw: bytes, output_text: str) -> dict[str, int]:
    prompt, output = len(raw) // 4, 8 + len(output_text) // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "cached": prompt // 4,
        "reasoning": output // 4,
    }


def _openai_flat(usage: dict[str, Any]) -> dict[str, int]:
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": usage["total_tokens"],
        "cached": usage["prompt_tokens_details"]["cached_tokens"],
        "reasoning": usage["completion_tokens_details"]["reasoning_tokens"],
    }


def _run_openai(fake: FakeProvider, stream: bool) -> Any:
    return run_openai_agent(
        fake.openai_base_url,
        scenario.OPENAI_MODEL,
        scenario.USER_PROMPT,
        scenario.TOOLS,
        scenario.TOOL_IMPLS,
        system=scenario.SYSTEM,
        stream=stream,
    )


def _run_anthropic(fake: FakeProvider, stream: bool) -> Any:
    return run_anthropic_agent(
        fake.base_url,
        scenario.ANTHROPIC_MODEL,
        scenario.USER_PROMPT,
        scenario.TOOLS,
        scenario.TOOL_IMPLS,
        system=scenario.SYSTEM,
        stream=stream,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_openai_tool_loop(stream: bool) -> None:
    with FakeProvider(scenario.script()) as fake:
        run = _run_openai(fake, stream)
        exchanges = fake.exchanges
    assert run.text == scenario.ANSWER
    assert [t.call_id for t in run.tool_runs] == ["call_0001", "call_0002"]
    assert [t.result for t in run.tool_runs] == [json.dumps(scenario.get_weather("Paris")), "69.8"]
    assert [(e.path, e.status, e.streamed) for e in exchanges] == [
        ("/v1/chat/completions", 200, stream)
    ] * 3
    roles = [[m["role"] for m in e.body["messages"]] for e in exchanges]
    assert roles[-1] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert exchanges[-1].body["messages"][3]["tool_call_id"] == "call_0001"
    assert exchanges[0].body["tools"][0]["function"]["name"] == "get_weather"
    outputs = ['get_weather{"city":"Paris"}', 'c_to_f{"c":21}', scenario.ANSWER]
    for exchange, output in zip(exchanges, outputs, strict=True):
        assert exchange.usage is not None
        assert _openai_flat(exchange.usage) == _openai_expected(exchange.raw, output)
        final = exchange.response[-2] if stream else exchange.response
        assert final["model"] == "gpt-4o-mini-2024-07-18"
        assert final["usage"] == exchange.usage
    assert fake.usages == [e.usage for e in exchanges]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_loop(stream: bool) -> None:
    with FakeProvider(scenario.script()) as fake:
        run = _run_anthropic(fake, stream)
        exchanges = fake.exchanges
    assert run.text == scenario.ANSWER
    assert [t.call_id for t in run.tool_runs] == ["toolu_0001", "toolu_0002"]
    assert [e.path for e in exchanges] == ["/v1/messages"] * 3
    last = exchanges[-1].body
    assert last["system"] == scenario.SYSTEM
    assert last["messages"][2]["content"][0]["tool_use_id"] == "toolu_0001"
    assert last["tools"][1]["name"] == "c_to_f"
    for exchange in exchanges:
        assert exchange.usage is not None
        prompt = len(exchange.raw) // 4
        cache_read, cache_write = prompt // 4, prompt // 8
        assert exchange.usage["cache_read_input_tokens"] == cache_read
        assert exchange.usage["cache_creation_input_tokens"] == cache_write
        assert exchange.usage["input_tokens"] == prompt - cache_read - cache_write
    assert exchanges[-1].usage is not None
    assert exchanges[-1].usage["output_tokens"] == 8 + len(scenario.ANSWER) // 4
    first = exchanges[0].response[0]["message"] if stream else exchanges[0].response
    assert first["model"] == "claude-haiku-4-5-20251001"


def test_parallel_calls_text_and_explicit_ids() -> None:
    script: list[Turn] = [
        Parallel([ToolCall("a", {"x": 1}), ToolCall("b", {}, id="mine")], text="Two at once."),
        ToolCall("a", {"x": 2}),
        Answer("done"),
    ]
    with (
        FakeProvider(script) as fake,
        openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0) as client,
    ):
        message = client.chat.completions.create(model="m", messages=[]).choices[0].message
        assert message.content == "Two at once."
        assert [c.id for c in message.tool_calls or []] == ["call_0001", "mine"]
        fake.set_script(script)
        with anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as claude:
            reply = claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[])
            second = claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[])
        assert [getattr(b, "id", None) for b in reply.content] == [None, "toolu_0001", "mine"]
        assert [getattr(b, "id", None) for b in second.content] == ["toolu_0003"]
        assert fake.remaining_turns == 1


def test_fail_next_then_script_resumes() -> None:
    with (
        FakeProvider([Answer("ok"), Answer("again")]) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as client,
    ):
        fake.fail_next(1, 503)
        with pytest.raises(openai.APIStatusError) as failure:
            client.chat.completions.create(model="m", messages=[])
        assert failure.value.status_code == 503
        assert client.chat.completions.create(model="m", messages=[]).choices[0].message.content
        fake.fail_next(1, 429, retry_after=0.01)
        retried = client.with_options(max_retries=1).chat.completions.create(model="m", messages=[])
        assert retried.choices[0].message.content == "again"
        with pytest.raises(openai.BadRequestError, match="script exhausted"):
            client.chat.completions.create(model="m", messages=[])
        statuses = [(e.status, e.turn) for e in fake.exchanges]
    assert statuses == [(503, None), (200, 0), (429, None), (200, 1), (400, None)]


def test_anthropic_fault_has_anthropic_error_shape() -> None:
    with (
        FakeProvider([Answer("ok")]) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as client,
    ):
        fake.fail_next(1, 529, message="busy")
        with pytest.raises(anthropic.APIStatusError) as failure:
            client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[])
        assert failure.value.status_code == 529
        assert fake.exchanges[0].response["error"] == {
            "type": "overloaded_error",
            "message": "busy",
        }


def test_stop_is_idempotent_and_safe_unstarted() -> None:
    fake = FakeProvider()
    fake.stop()
    with fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
    fake.stop()
    with pytest.raises(RuntimeError):
        _ = fake.base_url


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_captured_payload_has_one_agent_run(name: str) -> None:
    request = ExportTraceServiceRequest.FromString((PAYLOADS / f"{name}.traces.pb").read_bytes())
    spans = [
        span
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert len({span.trace_id for span in spans}) == 1
    roots = [span for span in spans if not span.parent_span_id]
    assert [span.name for span in roots] == [f"invoke_agent {scenario.AGENT_NAME}"]
    tools = [span for span in spans if span.name.startswith("execute_tool ")]
    call_ids = [
        kv.value.string_value
        for span in tools
        for kv in span.attributes
        if kv.key == "gen_ai.tool.call.id"
    ]
    prefix = "call" if CONFIGS[name].api == "openai" else "toolu"
    assert call_ids == [f"{prefix}_0001", f"{prefix}_0002"]
    requests = json.loads((PAYLOADS / f"{name}.requests.json").read_text())
    assert len(requests) == 3


def test_failing_tool_becomes_error_result() -> None:
    def broken(city: str) -> str:
        raise ValueError(f"no data for {city}")

    impls: dict[str, ToolImpl] = {**scenario.TOOL_IMPLS, "get_weather": broken}
    with FakeProvider(scenario.script()) as fake:
        run = run_anthropic_agent(
            fake.base_url, scenario.ANTHROPIC_MODEL, "hi", scenario.TOOLS, impls, max_retries=0
        )
        result = fake.requests[1]["messages"][2]["content"][0]
    assert run.tool_runs[0].is_error
    assert result == {
        "type": "tool_result",
        "tool_use_id": "toolu_0001",
        "content": "error: no data for Paris",
        "is_error": True,
    }


_RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": False,
}


def _responses_loop(client: openai.OpenAI, stream: bool) -> list[Any]:
    """A Responses API tool loop: one tool call (answered by hand), then the answer."""
    items: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    finals = []
    for _ in range(2):
        if stream:
            with client.responses.stream(
                model="gpt-4.1", instructions="Be brief.", input=items, tools=[_RESPONSES_TOOL]
            ) as events:
                kinds = [event.type for event in events]
                final = events.get_final_response()
            assert kinds[:2] == ["response.created", "response.in_progress"]
            assert kinds[-1] == "response.completed"
        else:
            final = client.responses.create(
                model="gpt-4.1", instructions="Be brief.", input=items, tools=[_RESPONSES_TOOL]
            )
        finals.append(final)
        calls = [item for item in final.output if item.type == "function_call"]
        for call in calls:
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
            )
            items.append({"type": "function_call_output", "call_id": call.call_id, "output": "21C"})
    return finals


@pytest.mark.parametrize("stream", [False, True])
def test_responses_api_tool_loop(stream: bool) -> None:
    script: list[Turn] = [
        ToolCall("get_weather", {"city": "Paris"}, text="Checking."),
        Answer("21C"),
    ]
    with (
        FakeProvider(script) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as client,
    ):
        first, second = _responses_loop(client, stream)
        exchanges = fake.exchanges
    assert [(e.path, e.api, e.streamed, e.turn) for e in exchanges] == [
        ("/v1/responses", "responses", stream, 0),
        ("/v1/responses", "responses", stream, 1),
    ]
    assert first.model == "gpt-4.1-2025-04-14"
    assert [item.type for item in first.output] == ["message", "function_call"]
    call = first.output[1]
    assert (call.call_id, call.name, json.loads(call.arguments)) == (
        "call_0001",
        "get_weather",
        {"city": "Paris"},
    )
    assert second.output_text == "21C"
    assert exchanges[1].body["input"][1]["call_id"] == "call_0001"
    assert exchanges[1].body["instructions"] == "Be brief."
    for exchange, final, output in zip(
        exchanges, (first, second), ['Checking.get_weather{"city":"Paris"}', "21C"], strict=True
    ):
        expected = _openai_expected(exchange.raw, output)
        assert exchange.usage == final.usage.model_dump(exclude_none=True)
        assert exchange.usage == {
            "input_tokens": expected["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": expected["cached"], "cache_write_tokens": 0},
            "output_tokens": expected["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": expected["reasoning"]},
            "total_tokens": expected["total_tokens"],
        }


def test_responses_stream_event_sequence() -> None:
    script: list[Turn] = [Parallel([ToolCall("a", {"x": 1}), ToolCall("b", {})], text="Hi")]
    with (
        FakeProvider(script) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as client,
    ):
        events = list(client.responses.create(model="gpt-4.1", input="go", stream=True))
    kinds = [event.type for event in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress" and events[0].response.usage is None
    completed = events[-1].response
    assert completed.status == "completed" and completed.usage is not None
    assert [getattr(item, "call_id", None) for item in completed.output] == [
        None,
        "call_0001",
        "call_0002",
    ]
    raw = fake.exchanges[0].response_raw.decode()
    assert raw.startswith("event: response.created\ndata: ")


def test_models_list_takes_no_turn() -> None:
    with (
        FakeProvider([Answer("ok")]) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as client,
    ):
        models = [model.id for model in client.models.list()]
        assert fake.remaining_turns == 1
        exchange = fake.exchanges[0]
    assert "gpt-4o-mini" in models and "gpt-4.1" in models
    assert (exchange.method, exchange.path, exchange.status, exchange.turn) == (
        "GET",
        "/v1/models",
        200,
        None,
    )
