"""Re-run answers (core/served.py) as the real OpenAI and Anthropic clients read them.

A local HTTP server answers every request with ``served_body`` of the recording under test,
for the API its path names; the clients parse the answer as they parse the provider's. Ground
truth is the recording: the parsed objects carry its text, tool calls, ids, model, finish
reason and tokens (in each provider's own counting), and turning them back into the GenAI
form with core.openai_api / core.anthropic_api gives the recording again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import openai
import pytest

from agentreel.core import anthropic_api, openai_api
from agentreel.core.cases import RecordedCall
from agentreel.core.exchange import Response
from agentreel.core.served import EVENT_STREAM, JSON, ServeError, api_of, served_body

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
# Longer than a streamed piece, with characters outside ASCII (and outside the BMP).
TEXT = "Paris is sunny at 21 °C — a fine day for the Musée d'Orsay 🌞. Lyon is cloudier."

BASE = RecordedCall(
    call=3,
    provider="openai",
    operation="chat",
    request_model="gpt-4o-mini",
    model="gpt-4o-mini-2024-07-18",
    response_id="chatcmpl-Ab12Cd34",
    status="ok",
    error="",
    system_instructions=None,
    input_messages=[{"role": "user", "parts": [{"type": "text", "content": "Weather?"}]}],
    tool_definitions=None,
    output_messages=[
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}
    ],
    parameters={},
    finish_reasons=["stop"],
    # OTel semantics, as stored: input includes the cached tokens.
    usage={"input_tokens": 1300, "output_tokens": 25, "cache_read_tokens": 1024},
)
CHAT_TOOLS = replace(
    BASE,
    output_messages=[
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_paris",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                },
                {
                    "type": "tool_call",
                    "id": "call_lyon",
                    "name": "get_weather",
                    "arguments": '{"city": "Lyon", "units": "metric"}',
                },
            ],
            "finish_reason": "tool_calls",
        }
    ],
    finish_reasons=["tool_calls"],
    usage={"input_tokens": 410, "output_tokens": 190, "reasoning_tokens": 128},
)
RESPONSES_TEXT = replace(BASE, response_id="resp_0a1b2c", model="gpt-5-mini-2025-08-07")
RESPONSES_TOOLS = replace(
    RESPONSES_TEXT,
    output_messages=[
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Two cities: ask for both at once."},
                *CHAT_TOOLS.output_messages[0]["parts"],
            ],
            "finish_reason": "tool_calls",
        }
    ],
    finish_reasons=["tool_calls"],
    usage={
        "input_tokens": 900,
        "output_tokens": 300,
        "cache_read_tokens": 512,
        "reasoning_tokens": 256,
    },
)
MESSAGES_TEXT = replace(
    BASE,
    provider="anthropic",
    request_model="claude-sonnet-4-5",
    model="claude-sonnet-4-5-20250929",
    response_id="msg_01XyZ",
    output_messages=[
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": TEXT}],
            "finish_reason": "end_turn",
        }
    ],
    finish_reasons=["end_turn"],
    # OTel semantics, as stored: 300 uncached + 1500 read + 200 written.
    usage={
        "input_tokens": 2000,
        "output_tokens": 42,
        "cache_read_tokens": 1500,
        "cache_write_tokens": 200,
    },
)
# As an OpenInference recording says it: the neutral "tool_calls", an argument string.
MESSAGES_TOOLS = replace(
    MESSAGES_TEXT,
    output_messages=[
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "The user wants the weather in two cities."},
                {"type": "text", "content": "Let me check both."},
                {
                    "type": "tool_call",
                    "id": "toolu_paris",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                },
                {
                    "type": "tool_call",
                    "id": "toolu_lyon",
                    "name": "get_weather",
                    "arguments": {"city": "Lyon", "units": "metric"},
                },
            ],
        }
    ],
    finish_reasons=["tool_calls"],
)


# --- the local provider ------------------------------------------------------------------------


class _Provider(ThreadingHTTPServer):
    daemon_threads = True
    call: RecordedCall = BASE


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        api = api_of(self.path)
        if api is None:
            self.send_error(404)
            return
        content_type, body = served_body(
            self.server.call,
            api,
            stream=bool(request.get("stream")),
            include_usage=bool((request.get("stream_options") or {}).get("include_usage")),
            model=request.get("model"),
        )
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def provider() -> Iterator[_Provider]:
    server = _Provider(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _url(server: _Provider) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _openai(server: _Provider, call: RecordedCall) -> openai.OpenAI:
    server.call = call
    return openai.OpenAI(base_url=_url(server) + "/v1", api_key="x", max_retries=0)


def _anthropic(server: _Provider, call: RecordedCall) -> anthropic.Anthropic:
    server.call = call
    return anthropic.Anthropic(base_url=_url(server), api_key="x", max_retries=0)


# --- ground truth ------------------------------------------------------------------------------


def _arguments(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _parts(messages: Any) -> list[dict[str, Any]]:
    """Every part of ``messages``, tool arguments as objects (whichever form was recorded)."""
    return [
        {**part, "arguments": _arguments(part["arguments"])}
        if part["type"] == "tool_call"
        else part
        for message in messages
        for part in message["parts"]
    ]


def _tokens(response: Response) -> dict[str, int]:
    """The parsed usage in the stored (OTel) semantics, zeros left out as the recording does."""
    usage = response.usage
    assert usage is not None
    counts = {
        "input_tokens": usage.otel_input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    return {key: count for key, count in counts.items() if count}


def _round_trips(
    response: Response, call: RecordedCall, *, reasoning: bool = True, usage: bool = True
) -> None:
    recorded = _parts(call.output_messages)
    if not reasoning:  # Chat Completions return none; Responses answers leave it out
        recorded = [part for part in recorded if part["type"] != "reasoning"]
    assert _parts(response.messages) == recorded
    if usage:
        assert _tokens(response) == call.usage
    else:
        assert response.usage is None
    assert response.response_id == call.response_id
    assert response.model == call.model


# --- Chat Completions --------------------------------------------------------------------------


def test_chat_completion_carries_the_recorded_text_and_tokens(provider: _Provider) -> None:
    with _openai(provider, BASE) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}]
        )
    assert completion.id == "chatcmpl-Ab12Cd34"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    (choice,) = completion.choices
    assert choice.message.content == TEXT
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1300, 25, 1325)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1024  # part of prompt_tokens
    _round_trips(openai_api.chat_response(completion), BASE)
    assert openai_api.chat_response(completion).finish_reasons == ["stop"]


def test_chat_completion_carries_parallel_tool_calls(provider: _Provider) -> None:
    with _openai(provider, CHAT_TOOLS) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Weather?"}],
            tools=[WEATHER_TOOL],
        )
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_paris", "get_weather", {"city": "Paris"}),
        ("call_lyon", "get_weather", {"city": "Lyon", "units": "metric"}),
    ]
    # An argument string is served as it was recorded.
    assert calls[1].function.arguments == '{"city": "Lyon", "units": "metric"}'
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 128
    _round_trips(openai_api.chat_response(completion), CHAT_TOOLS)


@pytest.mark.parametrize("include_usage", [True, False])
def test_chat_stream_sends_usage_only_when_asked(provider: _Provider, include_usage: bool) -> None:
    """Text, then tool calls; the recorded reasoning is not served (the API has no place
    for it)."""
    call = replace(
        CHAT_TOOLS,
        output_messages=[
            {
                "role": "assistant",
                "parts": [
                    {"type": "reasoning", "content": "Both cities."},
                    {"type": "text", "content": TEXT},
                    *CHAT_TOOLS.output_messages[0]["parts"],
                ],
                "finish_reason": "tool_calls",
            }
        ],
    )
    folded = openai_api.ChatStreamAccumulator()
    with _openai(provider, call) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Weather?"}],
                stream=True,
                stream_options={"include_usage": True} if include_usage else openai.omit,
            )
        )
    for chunk in chunks:
        assert chunk.object == "chat.completion.chunk"
        assert (chunk.id, chunk.model) == (call.response_id, call.model)
        folded.add(chunk)
    assert len(chunks) > 6  # text and arguments come in pieces
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    with_usage = [c for c in chunks if c.usage is not None]
    assert with_usage == ([chunks[-1]] if include_usage else [])
    if include_usage:
        assert chunks[-1].choices == []
    _round_trips(folded.response(), call, reasoning=False, usage=include_usage)


def test_chat_stream_helper_gives_the_final_completion(provider: _Provider) -> None:
    with (
        _openai(provider, CHAT_TOOLS) as client,
        client.chat.completions.stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Weather?"}],
            tools=[WEATHER_TOOL],
            stream_options={"include_usage": True},
        ) as stream,
    ):
        completion = stream.get_final_completion()
    assert completion.choices[0].finish_reason == "tool_calls"
    _round_trips(openai_api.chat_response(completion), CHAT_TOOLS)


def test_async_chat_stream(provider: _Provider) -> None:
    provider.call = BASE

    async def run() -> openai_api.ChatStreamAccumulator:
        folded = openai_api.ChatStreamAccumulator()
        async with openai.AsyncOpenAI(base_url=_url(provider) + "/v1", api_key="x") as client:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Weather?"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                folded.add(chunk)
        return folded

    folded = asyncio.run(run())
    _round_trips(folded.response(), BASE)
    assert folded.response().finish_reasons == ["stop"]


# --- Responses ---------------------------------------------------------------------------------


def test_response_carries_the_recorded_text_and_tokens(provider: _Provider) -> None:
    with _openai(provider, RESPONSES_TEXT) as client:
        response = client.responses.create(model="gpt-5-mini", input="Weather?")
    assert (response.id, response.model, response.status) == (
        "resp_0a1b2c",
        "gpt-5-mini-2025-08-07",
        "completed",
    )
    assert response.output_text == TEXT
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1300, 25)
    assert response.usage.input_tokens_details.cached_tokens == 1024
    parsed = openai_api.responses_response(response)
    _round_trips(parsed, RESPONSES_TEXT)
    assert parsed.finish_reasons == ["stop"]


def test_response_carries_reasoning_and_function_calls(provider: _Provider) -> None:
    with _openai(provider, RESPONSES_TOOLS) as client:
        response = client.responses.create(model="gpt-5-mini", input="Weather?")
    # The reasoning item is left out: sent back, it would have to be the provider's own.
    paris, lyon = response.output
    assert paris.type == lyon.type == "function_call"
    assert [(c.call_id, c.name, json.loads(c.arguments)) for c in (paris, lyon)] == [
        ("call_paris", "get_weather", {"city": "Paris"}),
        ("call_lyon", "get_weather", {"city": "Lyon", "units": "metric"}),
    ]
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens == 256
    parsed = openai_api.responses_response(response)
    _round_trips(parsed, RESPONSES_TOOLS, reasoning=False)
    assert parsed.finish_reasons == ["tool_calls"]


def test_response_stream_events_in_the_providers_order(provider: _Provider) -> None:
    call = replace(
        RESPONSES_TOOLS,
        output_messages=[
            {
                "role": "assistant",
                "parts": [
                    *RESPONSES_TOOLS.output_messages[0]["parts"][:1],
                    {"type": "text", "content": TEXT},
                    *RESPONSES_TOOLS.output_messages[0]["parts"][1:],
                ],
            }
        ],
    )
    with _openai(provider, call) as client:
        events = list(client.responses.create(model="gpt-5-mini", input="Weather?", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert (
        kinds.count("response.output_item.added") == kinds.count("response.output_item.done") == 3
    )
    text_start = kinds.index("response.content_part.added")
    assert kinds[text_start - 1] == "response.output_item.added"
    assert kinds[kinds.index("response.output_text.done") + 1] == "response.content_part.done"
    assert kinds.count("response.function_call_arguments.done") == 2
    assert "response.reasoning_summary_text.delta" not in kinds
    texts = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(texts) > 1
    assert "".join(texts) == TEXT
    final = events[-1].response
    assert final.output_text == TEXT
    _round_trips(openai_api.responses_response(final), call, reasoning=False)


def test_response_stream_helpers_give_the_final_response(provider: _Provider) -> None:
    with (
        _openai(provider, RESPONSES_TOOLS) as client,
        client.responses.stream(model="gpt-5-mini", input="Weather?") as stream,
    ):
        response = stream.get_final_response()
    _round_trips(openai_api.responses_response(response), RESPONSES_TOOLS, reasoning=False)

    async def run() -> Any:
        async with (
            openai.AsyncOpenAI(base_url=_url(provider) + "/v1", api_key="x") as client,
            client.responses.stream(model="gpt-5-mini", input="Weather?") as stream,
        ):
            return await stream.get_final_response()

    provider.call = RESPONSES_TEXT
    response = asyncio.run(run())
    assert response.output_text == TEXT
    _round_trips(openai_api.responses_response(response), RESPONSES_TEXT)


def test_response_cut_at_max_tokens_is_incomplete() -> None:
    call = replace(
        RESPONSES_TEXT,
        finish_reasons=["length"],
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": "Paris is"}]}],
    )
    content_type, body = served_body(call, "responses", stream=False)
    response = json.loads(body)
    assert content_type == JSON
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    content_type, body = served_body(call, "responses", stream=True)
    assert content_type == EVENT_STREAM
    assert body.rstrip().split(b"\n\n")[-1].startswith(b"event: response.incomplete\n")


# --- Anthropic Messages ------------------------------------------------------------------------


def test_message_carries_the_recorded_text_and_tokens(provider: _Provider) -> None:
    with _anthropic(provider, MESSAGES_TEXT) as client:
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            messages=[{"role": "user", "content": "Weather?"}],
        )
    assert (message.id, message.model, message.stop_reason) == (
        "msg_01XyZ",
        "claude-sonnet-4-5-20250929",
        "end_turn",
    )
    assert [(b.type, b.text) for b in message.content] == [("text", TEXT)]
    # Anthropic's input_tokens leave out what the cache read and wrote.
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (300, 42)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (1500, 200)
    parsed = anthropic_api.response(message)
    _round_trips(parsed, MESSAGES_TEXT)
    assert parsed.finish_reasons == ["end_turn"]


def test_message_carries_thinking_and_tool_use(provider: _Provider) -> None:
    with _anthropic(provider, MESSAGES_TOOLS) as client:
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            messages=[{"role": "user", "content": "Weather?"}],
        )
    assert message.stop_reason == "tool_use"  # recorded as the neutral "tool_calls"
    thinking, text, paris, lyon = message.content
    assert (thinking.type, thinking.thinking) == (
        "thinking",
        "The user wants the weather in two cities.",
    )
    assert (text.type, text.text) == ("text", "Let me check both.")
    assert [(b.type, b.id, b.name, b.input) for b in (paris, lyon)] == [
        ("tool_use", "toolu_paris", "get_weather", {"city": "Paris"}),
        ("tool_use", "toolu_lyon", "get_weather", {"city": "Lyon", "units": "metric"}),
    ]
    _round_trips(anthropic_api.response(message), MESSAGES_TOOLS)


def test_message_stream_events_in_the_providers_order(provider: _Provider) -> None:
    folded = anthropic_api.StreamAccumulator()
    with _anthropic(provider, MESSAGES_TOOLS) as client:
        events = list(
            client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=1024,
                messages=[{"role": "user", "content": "Weather?"}],
                stream=True,
            )
        )
    for event in events:
        folded.add(event)
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 4
    deltas = {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == {"thinking_delta", "text_delta", "input_json_delta"}
    assert events[-2].delta.stop_reason == "tool_use"
    parsed = folded.response()
    _round_trips(parsed, MESSAGES_TOOLS)
    assert parsed.finish_reasons == ["tool_use"]


def test_message_stream_helpers_give_the_final_message(provider: _Provider) -> None:
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Weather?"}],
    }
    with (
        _anthropic(provider, MESSAGES_TOOLS) as client,
        client.messages.stream(**request) as stream,
    ):
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (300, 42)
    _round_trips(anthropic_api.response(message), MESSAGES_TOOLS)

    async def run() -> Any:
        async with (
            anthropic.AsyncAnthropic(base_url=_url(provider), api_key="x") as client,
            client.messages.stream(**request) as stream,
        ):
            return await stream.get_final_message()

    provider.call = MESSAGES_TEXT
    message = asyncio.run(run())
    assert message.content[0].text == TEXT
    _round_trips(anthropic_api.response(message), MESSAGES_TEXT)


def test_anthropic_raw_input_count_is_served_as_is() -> None:
    """A stored input count below its cache counts can only be Anthropic's own."""
    call = replace(MESSAGES_TEXT, usage={"input_tokens": 12, "cache_read_tokens": 1500})
    usage = json.loads(served_body(call, "messages", stream=False)[1])["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"]) == (12, 1500)


# --- finish reasons, ids, what cannot be served ------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "chat", "messages", "responses"),
    [
        ("stop", "stop", "end_turn", "completed"),
        ("end_turn", "stop", "end_turn", "completed"),
        ("stop_sequence", "stop", "stop_sequence", "completed"),
        ("tool_use", "tool_calls", "tool_use", "completed"),
        ("tool_calls", "tool_calls", "tool_use", "completed"),
        ("max_tokens", "length", "max_tokens", "incomplete"),
        ("length", "length", "max_tokens", "incomplete"),
        ("content_filter", "content_filter", "refusal", "incomplete"),
        ("pause_turn", "stop", "pause_turn", "completed"),
        ("", "stop", "end_turn", "completed"),
    ],
)
def test_finish_reasons_in_each_apis_words(
    recorded: str, chat: str, messages: str, responses: str
) -> None:
    call = replace(
        BASE,
        finish_reasons=[recorded] if recorded else [],
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": "hi"}]}],
    )
    served = {
        api: json.loads(served_body(call, api, stream=False)[1])
        for api in ("chat", "messages", "responses")
    }
    assert served["chat"]["choices"][0]["finish_reason"] == chat
    assert served["messages"]["stop_reason"] == messages
    assert served["responses"]["status"] == responses


def test_a_tool_call_without_a_recorded_reason_finishes_with_tool_calls() -> None:
    call = replace(
        CHAT_TOOLS,
        finish_reasons=[],
        output_messages=[{"role": "assistant", "parts": CHAT_TOOLS.output_messages[0]["parts"]}],
    )
    assert (
        json.loads(served_body(call, "chat", stream=False)[1])["choices"][0]["finish_reason"]
        == "tool_calls"
    )
    assert json.loads(served_body(call, "messages", stream=False)[1])["stop_reason"] == "tool_use"


def test_missing_ids_and_model_are_made_from_the_call_number() -> None:
    part = {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}}
    call = replace(
        BASE,
        response_id="",
        model="",
        request_model="",
        output_messages=[{"role": "assistant", "parts": [part, part]}],
    )
    chat = json.loads(served_body(call, "chat", stream=False, model="gpt-4o")[1])
    assert (chat["id"], chat["model"]) == ("chatcmpl-rerun-3", "gpt-4o")
    assert [c["id"] for c in chat["choices"][0]["message"]["tool_calls"]] == [
        "call_rerun_3_0",
        "call_rerun_3_1",
    ]
    message = json.loads(served_body(call, "messages", stream=False, model="claude-x")[1])
    assert (message["id"], message["model"]) == ("msg_rerun_3", "claude-x")
    assert [b["id"] for b in message["content"]] == ["toolu_rerun_3_0", "toolu_rerun_3_1"]
    response = json.loads(served_body(call, "responses", stream=False)[1])
    assert response["id"] == "resp_rerun_3"
    assert [i["call_id"] for i in response["output"]] == ["call_rerun_3_0", "call_rerun_3_1"]
    # The same recording serves the same ids every time (a stream included).
    assert served_body(call, "chat", stream=True, created=1) == served_body(
        call, "chat", stream=True, created=1
    )
    # The request's model only when the recording names none.
    assert (
        json.loads(served_body(BASE, "chat", stream=False, model="other")[1])["model"] == BASE.model
    )
    no_model = replace(BASE, model="")
    assert (
        json.loads(served_body(no_model, "chat", stream=False, model="other")[1])["model"]
        == "gpt-4o-mini"
    )


@pytest.mark.parametrize(
    ("call", "api", "says"),
    [
        (replace(BASE, status="error", error="RateLimitError: 429"), "chat", "RateLimitError: 429"),
        (replace(BASE, output_messages=None), "responses", "output was not recorded"),
        (BASE, "embeddings", "'embeddings'"),
        (
            replace(
                BASE,
                output_messages=[{"role": "assistant", "parts": [{"type": "uri", "uri": "x"}]}],
            ),
            "chat",
            "'uri'",
        ),
        (
            replace(
                MESSAGES_TEXT,
                output_messages=[{"role": "assistant", "parts": [{"type": "image", "source": {}}]}],
            ),
            "chat",
            "'image'",
        ),
        (
            replace(
                CHAT_TOOLS,
                output_messages=[
                    {
                        "role": "assistant",
                        "parts": [
                            {"type": "tool_call", "id": "t", "name": "f", "arguments": "[1, 2]"}
                        ],
                    }
                ],
            ),
            "messages",
            "no JSON object",
        ),
    ],
)
def test_what_cannot_be_served_says_why(call: RecordedCall, api: str, says: str) -> None:
    with pytest.raises(ServeError, match=says.replace("(", r"\(")):
        served_body(call, api, stream=False)


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/chat/completions", "chat"),
        ("/openai/deployments/gpt4/chat/completions?api-version=2024-10-21", "chat"),
        ("/v1/responses", "responses"),
        ("/v1/messages", "messages"),
        ("/v1/messages?beta=true", "messages"),
        ("/v1/responses/resp_123", None),
        ("/v1/responses/resp_123/input_items", None),
        ("/v1/messages/count_tokens", None),
        ("/v1/messages/batches", None),
        ("/v1/threads/thread_1/messages", None),
        ("/v1/chat/completions/chatcmpl-1/messages", None),
        ("/v1/embeddings", None),
    ],
)
def test_api_of_request_paths(path: str, api: str | None) -> None:
    assert api_of(path) == api
