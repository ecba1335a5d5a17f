"""A support agent whose refund tool fails, run on the real ``openai`` client under the
OpenInference instrumentor against the fake provider, its spans exported over OTLP/HTTP.

Instrumentors patch the clients globally, so tests run it in a fresh interpreter::

    python -m support.failingrun --http URL

It prints one JSON line: the run's trace id and the request bodies the fake provider got.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from support.agents import ToolSpec
from support.fakeprovider import Answer, ToolCall
from support.paths import TESTS

AGENT = "support-agent"
MODEL = "gpt-4o-mini"
SYSTEM = "You are the support agent of a small shop. Use the tools."
QUESTION = "Order A-1042 arrived broken, please refund it."
REFUND = {"order_id": "A-1042", "amount": 149.0}
#: Why the refund tool fails: what the tests expect the MCP tools to name.
REFUSAL = "card issuer declined the refund of 149.00 for A-1042"
ANSWER = "Sorry, the refund did not go through; a colleague will call you."

TOOLS = (
    ToolSpec(
        "lookup_order",
        "An order's total and status.",
        {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    ),
    ToolSpec(
        "refund",
        "Refund an order.",
        {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["order_id", "amount"],
        },
    ),
)


class RefundDeclined(Exception):
    """The payment provider said no."""


def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "total": 149.0, "status": "delivered"}


def refund(order_id: str, amount: float) -> str:
    raise RefundDeclined(REFUSAL)


def worker(http_url: str) -> dict[str, Any]:
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from support.agents import run_openai_agent
    from support.fakeprovider import FakeProvider

    provider = TracerProvider(resource=Resource.create({"service.name": "support-shop"}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{http_url}/v1/traces"))
    )
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()
    script = [
        ToolCall("lookup_order", {"order_id": "A-1042"}),
        ToolCall("refund", REFUND),
        Answer(ANSWER),
    ]
    with FakeProvider(script) as fake:
        run = run_openai_agent(
            fake.openai_base_url,
            MODEL,
            QUESTION,
            TOOLS,
            {"lookup_order": lookup_order, "refund": refund},
            system=SYSTEM,
            agent_name=AGENT,
            session_id="chat-failing-refund",
            user_id="customer-1042",
        )
        bodies = [e.body for e in fake.exchanges]
    # Acknowledged by agentreel means stored: after this the run is queryable.
    flushed = provider.force_flush(30_000)
    provider.shutdown()
    return {"trace_id": run.trace_id, "flushed": flushed, "bodies": bodies}


def run(http_url: str) -> dict[str, Any]:
    """Run :func:`worker` in a fresh interpreter and return what it reported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-m", "support.failingrun", "--http", http_url],
        cwd=TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise AssertionError(
            f"failingrun failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    print(json.dumps(worker(parser.parse_args().http), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
