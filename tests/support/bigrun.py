"""A big agent run sent over OTLP/HTTP to a live server: by default 2,000 spans, 200 LLM calls
and context windows of 80k to 100k tokens (a long document in the first message, then the
conversation growing by each call's tool calls and results), as the browser test and
``bench/dashboard.py --big-run`` open it.

The run is built in the current OTel GenAI conventions with :mod:`support.otlpbuild`: a root
``invoke_agent`` span, ``calls`` LLM spans (each repeats the whole conversation, as
instrumentors record it), ``tools_per_call`` tool spans after every call but the last, and
decision spans to make up ``spans``. Its start is now, so the dashboard's default range holds it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from support.otlpbuild import new_span_id, new_trace_id, span, traces

#: Characters per token, the usual rule of thumb for English text.
CHARS_PER_TOKEN = 4
#: Bytes of spans per OTLP request (well under the server's request limit).
REQUEST_BYTES = 4_000_000
MS = 1_000_000
WORDS = tuple(
    [
        "agent",
        "tool",
        "window",
        "context",
        "call",
        "step",
        "replay",
        "refund",
        "order",
        "weather",
        "city",
        "price",
        "model",
        "token",
        "span",
        "trace",
        "answer",
        "question",
        "search",
        "result",
        "document",
        "section",
        "clause",
        "invoice",
        "customer",
    ]
)


@dataclass(frozen=True)
class BigRun:
    trace_id: str
    spans: int
    calls: int
    #: Timeline steps: LLM calls, tool calls and decisions.
    steps: int
    #: Estimated tokens of the last call's window.
    last_window_tokens: int


def text(tokens: int, seed: int) -> str:
    """About ``tokens`` tokens of words, different for each ``seed``."""
    words, size, i = [], 0, seed
    while size < tokens * CHARS_PER_TOKEN:
        word = WORDS[(i * 7 + seed) % len(WORDS)]
        words.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(words)


def send_big_run(url: str, **size: int) -> BigRun:
    """Build the run (:func:`build_big_run`, ``size`` its arguments) and POST it to ``url``'s
    ``/v1/traces``; wait until the server has all its spans."""
    run, built = build_big_run(**size)
    _post(url, built)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/api/v1/runs/{run.trace_id}", timeout=60)
        if answer.status_code == 200 and answer.json()["run"]["spans"] == run.spans:
            return run
        time.sleep(0.5)
    raise AssertionError(f"the server did not store the {run.spans} spans of run {run.trace_id}")


def build_big_run(
    *,
    spans: int = 2_000,
    calls: int = 200,
    tools_per_call: int = 9,
    document_tokens: int = 80_000,
) -> tuple[BigRun, list[Any]]:
    """The run and its OTLP spans. ``spans`` must leave room: at least
    1 + calls + (calls - 1) * tools_per_call."""
    tool_spans = (calls - 1) * tools_per_call
    decisions = spans - 1 - calls - tool_spans
    assert decisions >= 0, "too few spans for that many calls and tools"
    trace_id, root = new_trace_id(), new_span_id()
    start = time.time_ns() - (calls * (tools_per_call + 1) + decisions + 10) * 20 * MS
    clock = start
    built: list[Any] = []

    def add(name: str, attrs: dict[str, Any], duration_ms: int) -> None:
        nonlocal clock
        clock += 20 * MS
        built.append(
            span(
                trace_id,
                new_span_id(),
                name,
                attrs,
                parent=root,
                start_ns=clock,
                duration_ns=duration_ms * MS,
            )
        )

    system = [{"type": "text", "content": "You are a careful research agent."}]
    messages: list[dict[str, Any]] = [
        {"role": "user", "parts": [{"type": "text", "content": text(document_tokens, 0)}]}
    ]
    tokens = document_tokens
    decisions_left = decisions
    for n in range(1, calls + 1):
        last = n == calls
        if last:
            parts = [{"type": "text", "content": f"Done after {calls} calls."}]
        else:
            parts = [
                {
                    "type": "tool_call",
                    "id": f"call_{n}_{k}",
                    "name": f"tool_{k % 4}",
                    "arguments": json.dumps({"query": f"q{n}.{k}"}),
                }
                for k in range(tools_per_call)
            ]
        output = {"role": "assistant", "parts": parts}
        add(
            "chat gpt-4o",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": tokens,
                "gen_ai.usage.output_tokens": 40,
                "gen_ai.system_instructions": json.dumps(system),
                "gen_ai.input.messages": json.dumps(messages),
                "gen_ai.output.messages": json.dumps([output]),
            },
            300,
        )
        if last:
            break
        messages.append(output)
        for k in range(tools_per_call):
            result = text(12, n * 100 + k)
            add(
                f"execute_tool tool_{k % 4}",
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": f"tool_{k % 4}",
                    "gen_ai.tool.call.id": f"call_{n}_{k}",
                    "gen_ai.tool.call.arguments": json.dumps({"query": f"q{n}.{k}"}),
                    "gen_ai.tool.call.result": result,
                },
                15,
            )
            messages.append(
                {
                    "role": "tool",
                    "parts": [
                        {"type": "tool_call_response", "id": f"call_{n}_{k}", "response": result}
                    ],
                }
            )
            tokens += 20
        if decisions_left and n % max(1, calls // max(1, decisions)) == 0:
            add(
                "decide next",
                {
                    "agentreel.span.kind": "decision",
                    "agentreel.decision.name": "next",
                    "agentreel.decision.options": json.dumps(["search", "answer"]),
                    "agentreel.decision.chosen": "search",
                    "agentreel.decision.reason": "more to read",
                },
                1,
            )
            decisions_left -= 1
    while decisions_left:
        add(
            "decide stop",
            {
                "agentreel.span.kind": "decision",
                "agentreel.decision.name": "stop",
                "agentreel.decision.chosen": "answer",
            },
            1,
        )
        decisions_left -= 1
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "big-agent"}
    built.insert(
        0,
        span(
            trace_id,
            root,
            "invoke_agent big-agent",
            attrs,
            start_ns=start,
            duration_ns=clock - start + 400 * MS,
        ),
    )
    return BigRun(trace_id.hex(), spans, calls, spans - 1, tokens), built


def _post(url: str, spans: list[Any]) -> None:
    batch: list[Any] = []
    size = 0
    for one in spans:
        batch.append(one)
        size += one.ByteSize()
        if size >= REQUEST_BYTES:
            _send(url, batch)
            batch, size = [], 0
    if batch:
        _send(url, batch)


def _send(url: str, batch: list[Any]) -> None:
    body = traces(batch, service="big-run").SerializeToString()
    sent = httpx.post(
        f"{url}/v1/traces",
        content=body,
        headers={"content-type": "application/x-protobuf"},
        timeout=300,
    )
    assert sent.status_code == 200, sent.text
