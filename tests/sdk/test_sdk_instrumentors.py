"""The SDK's auto-instrumentation beside another instrumentor of the same client: each LLM
call is traced once (by the other instrumentor), and still counted for the run's budget.
Instrumentors patch clients globally, so each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from support.liveserver import RunningServer
from support.paths import TESTS
from support.payloads.capture import _OWN_PREFIXES, CONFIGS

WORKER = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from agentreel import sdk
from support.agents import run_anthropic_agent, run_openai_agent
from support.fakeprovider import FakeProvider
from support.payloads import scenario
from support.payloads.capture import CONFIGS, _instrument

name, order, url = sys.argv[1:4]
config = CONFIGS[name]
trace.set_tracer_provider(TracerProvider(resource=Resource.create({"service.name": name})))
if order == "first":
    _instrument(config.instrumentors)
sdk.init(endpoint=url)
if order == "second":
    _instrument(config.instrumentors)
agent = run_openai_agent if config.api == "openai" else run_anthropic_agent
model = scenario.OPENAI_MODEL if config.api == "openai" else scenario.ANTHROPIC_MODEL
with FakeProvider(scenario.script()) as fake, sdk.run("double", session=name) as run:
    base = fake.openai_base_url if config.api == "openai" else fake.base_url
    agent(base, model, scenario.USER_PROMPT, scenario.TOOLS, scenario.TOOL_IMPLS,
          system=scenario.SYSTEM, stream=config.stream)
print(json.dumps({"trace_id": run.trace_id, "llm_calls": run.llm_calls,
                  "cost": run.cost_usd, "sent": len(fake.exchanges),
                  "flushed": sdk.force_flush()}))
"""

CASES = [
    ("openinference_openai", "first"),  # wraps the client's transport (OpenAI.request)
    ("openinference_openai_stream", "second"),
    ("otel_genai_openai_latest", "first"),  # wraps Completions.create inside ours
    ("otel_genai_openai_latest", "second"),  # ... or outside ours
    ("openllmetry_openai_stream", "first"),
    ("openinference_anthropic", "second"),
    ("openllmetry_anthropic_stream", "first"),
]


def run_worker(name: str, order: str, url: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(CONFIGS[name].env)
    done = subprocess.run(
        [sys.executable, "-c", WORKER, name, order, url],
        cwd=TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def flatten(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(s for child in node.get("children", []) for s in flatten(child))]


@pytest.mark.parametrize(("name", "order"), CASES)
def test_a_call_another_instrumentor_traces_is_not_traced_twice(
    server: RunningServer, name: str, order: str
) -> None:
    result = run_worker(name, order, server.url)
    assert result["flushed"] and result["sent"] == 3
    assert result["llm_calls"] == 3 and result["cost"] > 0  # the budget still sees them
    roots = server.get(f"/api/v1/runs/{result['trace_id']}")["spans"]
    spans = [s for root in roots for s in flatten(root)]
    # The Anthropic SDK's own span of a call is the provider's, not an instrumentor's.
    llm = [s for s in spans if s["kind"] == "llm" and s["scope"] != "com.anthropic.sdk.python"]
    assert len(llm) == 3, [(s["name"], s["scope"]) for s in llm]
    assert not any(s["scope"] == "agentreel.sdk" for s in llm)
    assert sum(s["counted"] for s in spans if s["kind"] == "llm") == 3
