"""A refund agent on agentreel's SDK and the real ``openai`` client, for the regression-case
tests: a routing decision, then a Chat Completions tool loop over two ``@sdk.tool`` tools.

Each tool body appends a line to the file ``CASE_AGENT_TOOL_LOG`` names: the tools' own
record of having run, which agentreel's report cannot fake. ``nudge`` is the code change
under test: a user message added before the second LLM call, so the agent's second
request differs from a recording made without it.

``python -m support.caseagent [--nudge TEXT]`` is what a case's command runs: the agent
against ``CASE_AGENT_BASE_URL``, its spans kept in memory and written as one OTLP/protobuf
body to ``CASE_AGENT_SPANS`` (nothing is sent anywhere), its answer printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openai

from agentreel import sdk

from support.fakeprovider import Answer, ToolCall

MODEL = "gpt-4o-mini"
SYSTEM = "You are the refunds agent of a small shop. Use the tools."
QUESTION = "Order A-7 arrived broken. Refund it please."
ORDER = {"order_id": "A-7", "total": 42.0, "status": "delivered"}
ANSWER = "Refunded $42.00 for order A-7."
SCRIPT = [
    ToolCall("lookup_order", {"order_id": "A-7"}),
    ToolCall("refund", {"order_id": "A-7", "amount": 42.0}),
    Answer(ANSWER),
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties},
        },
    }
    for name, description, properties in (
        ("lookup_order", "An order's total and status.", {"order_id": {"type": "string"}}),
        (
            "refund",
            "Refund an order.",
            {"order_id": {"type": "string"}, "amount": {"type": "number"}},
        ),
    )
]


def _ran(name: str, arguments: dict[str, Any]) -> None:
    log = os.environ.get("CASE_AGENT_TOOL_LOG")
    if log:
        with open(log, "a") as out:
            out.write(json.dumps({"tool": name, "arguments": arguments}) + "\n")


def tool_log(path: Path) -> list[dict[str, Any]]:
    """What the tool bodies wrote: one entry per run of a tool."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    _ran("lookup_order", {"order_id": order_id})
    return {**ORDER, "order_id": order_id}


@sdk.tool
def refund(order_id: str, amount: float) -> str:
    _ran("refund", {"order_id": order_id, "amount": amount})
    return f"refunded {amount:.2f} for {order_id}"


_FUNCTIONS = {"lookup_order": lookup_order, "refund": refund}


def _messages(question: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def _run_tools(message: Any, messages: list[dict[str, Any]]) -> None:
    for call in message.tool_calls:
        result = _FUNCTIONS[call.function.name](**json.loads(call.function.arguments))
        content = result if isinstance(result, str) else json.dumps(result)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": content})


def answer(base_url: str, question: str = QUESTION, *, nudge: str | None = None) -> str:
    """One conversation as one run; the final answer."""
    with (
        sdk.run("refund_agent", session="case-session"),
        openai.OpenAI(base_url=base_url, api_key="offline", max_retries=0) as client,
    ):
        sdk.decision("route", options=["refund", "faq"], chosen="refund", reason="broken order")
        messages = _messages(question)
        for step in range(6):
            if step == 1 and nudge:
                messages.append({"role": "user", "content": nudge})
            completion = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
            message = completion.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                return message.content or ""
            _run_tools(message, messages)
    raise RuntimeError("the agent did not finish in 6 steps")


async def answer_async(base_url: str, question: str = QUESTION) -> str:
    """The same conversation on the async client (the tools stay sync)."""
    async with (
        sdk.run("refund_agent", session="case-session"),
        openai.AsyncOpenAI(base_url=base_url, api_key="offline", max_retries=0) as client,
    ):
        sdk.decision("route", options=["refund", "faq"], chosen="refund", reason="broken order")
        messages = _messages(question)
        for _ in range(6):
            completion = await client.chat.completions.create(
                model=MODEL, messages=messages, tools=TOOLS
            )
            message = completion.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                return message.content or ""
            _run_tools(message, messages)
    raise RuntimeError("the agent did not finish in 6 steps")


def main(argv: Sequence[str] | None = None) -> int:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    parser = argparse.ArgumentParser()
    parser.add_argument("--nudge", help="a user message added before the second LLM call")
    args = parser.parse_args(argv)
    memory = InMemorySpanExporter()
    sdk.init(
        service_name="case-agent",
        tracer_provider=TracerProvider(),
        exporter=memory,
        instrument=["openai"],  # anthropic is not used: not imported either
    )
    print(answer(os.environ["CASE_AGENT_BASE_URL"], nudge=args.nudge))
    assert sdk.force_flush(10), sdk.stats()
    spans_file = os.environ.get("CASE_AGENT_SPANS")
    if spans_file:
        Path(spans_file).write_bytes(encode_spans(memory.get_finished_spans()).SerializeToString())
    sdk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
