"""A support agent instrumented with agentreel.sdk, runnable offline.

It uses the real ``openai`` client against the repository's fake OpenAI/Anthropic server
(``tests/support/fakeprovider``, started here on a free local port), so it needs no API key and no
network. Two runs:

1. an order question: a routing decision, two tool calls, a refund over the limit that is
   escalated to a human, the answer, and the user's feedback;
2. the same question with a budget too small for it: the cost guard stops the run.

Run it from the repository root, with agentreel listening (``make run`` in another shell)::

    .venv/bin/python examples/support_agent.py
    .venv/bin/agentreel replay <trace id it prints>

Spans go to ``http://127.0.0.1:4318`` unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` says otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import openai

from agentreel import sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.fakeprovider import Answer, FakeProvider, ToolCall  # the fake lives in tests/

MODEL = "gpt-4o-mini"
SYSTEM = "You are the support agent of a small shop. Use the tools; refunds over $100 need a human."
QUESTION = "My order A-1042 arrived broken. Can I get my money back?"
REFUND_LIMIT_USD = 100.0

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "An order's items, total and status.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "refund",
            "description": "Refund an order, fully or in part.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
                "required": ["order_id", "amount"],
            },
        },
    },
]

#: What the fake model answers, turn by turn.
SCRIPT = [
    ToolCall("lookup_order", {"order_id": "A-1042"}),
    ToolCall("refund", {"order_id": "A-1042", "amount": 149.0}),
    Answer("A colleague will confirm your refund of $149.00 within a day."),
]


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    """A fixed order (the example has no database)."""
    return {"order_id": order_id, "total": 149.0, "status": "delivered", "items": ["lamp"]}


@sdk.tool
def refund(order_id: str, amount: float) -> str:
    """Refunds up to the limit; above it, hands over to a human."""
    if amount > REFUND_LIMIT_USD:
        sdk.escalate(f"refund of ${amount:.2f} is over ${REFUND_LIMIT_USD:.0f}", to="human")
        return f"refund of {amount:.2f} for {order_id} queued for human approval"
    return f"refunded {amount:.2f} for {order_id}"


TOOL_FUNCTIONS = {"lookup_order": lookup_order, "refund": refund}


def answer(client: openai.OpenAI, question: str, **limits: Any) -> sdk.run:
    """One support conversation as one run; returns the finished run scope."""
    with sdk.run(
        "support_agent", session="chat-7f3a", user="customer-1042", tags=["example"], **limits
    ) as run:
        sdk.decision(
            "route",
            options=["orders", "faq", "human"],
            chosen="orders",
            reason="mentions an order id and a refund",
            confidence=0.92,
        )
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": question},
        ]
        for _ in range(8):
            completion = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
            message = completion.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                break
            for call in message.tool_calls:
                function = call.function
                result = TOOL_FUNCTIONS[function.name](**json.loads(function.arguments))
                content = result if isinstance(result, str) else json.dumps(result)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return run


def main() -> int:
    sdk.init(service_name="support-agent-example")
    with (
        FakeProvider(SCRIPT) as fake,
        openai.OpenAI(base_url=fake.openai_base_url, api_key="offline") as client,
    ):
        done = answer(client, QUESTION, budget_usd=0.05, max_steps=10)
        sdk.feedback(done, value=1, comment="solved, thanks")
        print(f"run 1: {done.trace_id}  ${done.cost_usd:.6f}, {done.steps} steps")

        fake.set_script(SCRIPT)
        stopped = ""
        try:
            answer(client, QUESTION, budget_usd=0.00001)
        except sdk.BudgetExceeded as exc:
            stopped = exc.breach.trace_id
            print(f"run 2: {stopped}  stopped by its budget: {exc}")
    flushed = sdk.force_flush()
    sdk.shutdown()
    if not flushed:
        print("(agentreel is not reachable: the agent ran anyway, spans were not stored)")
    print(f"replay: .venv/bin/agentreel replay {done.trace_id}")
    if stopped:
        print(f"        .venv/bin/agentreel replay {stopped}   (the run its budget stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
