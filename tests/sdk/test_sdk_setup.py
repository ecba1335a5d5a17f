"""Setting the SDK up: it imports and works with none of the server's dependencies, says
which package gRPC needs, honours the OTEL_* variables, and joins a TracerProvider the
application already has. Each case runs in a fresh interpreter (the global provider can be
set once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from typing import Any

import pytest

from support.liveserver import RunningServer
from support.paths import ROOT

#: What only the server needs; the SDK must work with every one of them missing.
SERVER_ONLY = (
    "chdb",
    "clickhouse_connect",
    "fastapi",
    "grpc",
    "streamlit",
    "polars",
    "uvicorn",
    "pyarrow",
    "orjson",
    "httpx",
    "starlette",
    "prometheus_client",
)

BLOCKER = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None
sys.meta_path.insert(0, Blocker())
"""


def run_python(code: str, blocked: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Any:
    """Run ``code`` (which prints one JSON line last) in a fresh interpreter."""
    script = BLOCKER + textwrap.dedent(code)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTREEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", script, ",".join(blocked)],
        cwd=ROOT / "tests",
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_package_depends_only_on_opentelemetry_and_the_price_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = sorted(d.split(">")[0].split("=")[0].strip() for d in project["dependencies"])
    assert names == [
        "genai-prices",
        "opentelemetry-api",
        "opentelemetry-exporter-otlp-proto-http",
        "opentelemetry-sdk",
    ]


def test_the_cost_guard_prices_from_the_maintained_data_and_runs_without_it() -> None:
    code = """
        import json
        from agentreel import sdk
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        sdk.init(exporter=InMemorySpanExporter(), service_name="guard")
        with sdk.run("guard", budget_usd=1.0) as run:
            with sdk.llm_call("mistral-large-latest", provider="mistral_ai") as c:
                c.record("ok", usage={"input_tokens": 100_000, "output_tokens": 10_000})
        loaded = "genai_prices" in sys.modules
        print(json.dumps({"cost": run.cost_usd, "unpriced": run.state.unpriced_llm_calls,
                          "loaded": loaded}))
        """
    # mistral-large-latest: 2.00 input, 6.00 output: 100,000 * 2 + 10,000 * 6 = 260,000 / 1M.
    priced = run_python(code)
    assert priced["cost"] == pytest.approx(0.26) and priced["unpriced"] == 0
    # An install without genai-prices: still guarded, the call counted as unpriced, not free.
    bare = run_python(code, blocked=("genai_prices",))
    assert (bare["cost"], bare["unpriced"], bare["loaded"]) == (0.0, 1, False)


def test_the_sdk_works_without_any_server_dependency() -> None:
    result = run_python(
        """
        import json
        from agentreel import sdk
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        memory = InMemorySpanExporter()
        sdk.init(exporter=memory, service_name="light", redact=True)

        @sdk.tool
        def add(a: int, b: int) -> int:
            return a + b

        with sdk.run("light", session="s-1", budget_usd=1.0) as run:
            add(1, 2)
            with sdk.llm_call("gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]) as c:
                c.record("mail me at a@b.io", usage={"input_tokens": 1000, "output_tokens": 10})
            sdk.decision("route", ["a", "b"], "a")
        sdk.force_flush()
        spans = {s.name: dict(s.attributes) for s in memory.get_finished_spans()}
        loaded = sorted({m.split(".")[0] for m in sys.modules} & BLOCKED)
        print(json.dumps({"spans": spans, "cost": run.cost_usd, "loaded": loaded}))
        """,
        blocked=(*SERVER_ONLY, "openai", "anthropic"),
    )
    assert result["loaded"] == []
    spans = result["spans"]
    assert set(spans) == {
        "invoke_agent light",
        "execute_tool add",
        "chat gpt-4o-mini",
        "decision route",
    }
    assert spans["execute_tool add"]["gen_ai.tool.call.result"] == "3"
    assert spans["chat gpt-4o-mini"]["session.id"] == "s-1"
    assert "[REDACTED:email]" in spans["chat gpt-4o-mini"]["gen_ai.output.messages"]
    assert result["cost"] > 0  # priced from the shipped table, no server needed


def test_grpc_without_its_exporter_names_the_package_to_install() -> None:
    result = run_python(
        """
        import json
        from agentreel import sdk
        try:
            sdk.init(endpoint="grpc://127.0.0.1:4317")
        except sdk.ConfigError as exc:
            print(json.dumps({"error": str(exc)}))
        """,
        blocked=("grpc",),
    )
    assert "pip install opentelemetry-exporter-otlp-proto-grpc" in result["error"]


def test_otel_variables_are_honoured_and_an_existing_provider_is_kept(
    server: RunningServer,
) -> None:
    result = run_python(
        """
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from agentreel import sdk

        app = TracerProvider()                     # the application's own tracing
        memory = InMemorySpanExporter()
        app.add_span_processor(SimpleSpanProcessor(memory))
        trace.set_tracer_provider(app)

        provider = sdk.init()                      # endpoint and service from OTEL_*
        with sdk.run("env-run", user="u-9") as run:
            with trace.get_tracer("app").start_as_current_span("app work"):
                pass
        flushed = sdk.force_flush()
        print(json.dumps({
            "same": provider is app and trace.get_tracer_provider() is app,
            "flushed": flushed,
            "trace_id": run.trace_id,
            "app_saw": sorted(s.name for s in memory.get_finished_spans()),
            "stamped": [dict(s.attributes).get("user.id") for s in memory.get_finished_spans()],
        }))
        """,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": server.url,
            "OTEL_SERVICE_NAME": "ignored-app-has-a-resource",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=agents",
        },
    )
    assert result["same"] and result["flushed"]
    assert result["app_saw"] == ["app work", "invoke_agent env-run"]
    assert result["stamped"] == ["u-9", "u-9"]
    spans = server.get(f"/api/v1/runs/{result['trace_id']}")["spans"]
    assert spans[0]["name"] == "invoke_agent env-run"
    assert [c["name"] for c in spans[0]["children"]] == ["app work"]
    assert spans[0]["children"][0]["user"] == "u-9"


def test_with_nothing_configured_it_sends_to_the_local_defaults() -> None:
    result = run_python(
        """
        import json
        from agentreel import sdk
        from agentreel.sdk import _config

        sdk.init(service_name="defaults")
        exporter = _config._setup.exporter.exporter
        print(json.dumps({"endpoint": exporter._endpoint, "type": type(exporter).__module__}))
        """,
    )
    assert result["endpoint"] == "http://127.0.0.1:4318/v1/traces"
    assert result["type"].startswith("opentelemetry.exporter.otlp.proto.http")


def test_the_readme_quickstart_works_as_written(server: RunningServer) -> None:
    from support.fakeprovider import Answer, FakeProvider

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The SDK", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 14
    with FakeProvider([Answer("It is 21C and sunny.")]) as fake:
        run_python(
            code + "\nimport json; print(json.dumps({}))\n",
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": server.url,  # the test's server, not :4318
                "OPENAI_BASE_URL": fake.openai_base_url,
                "OPENAI_API_KEY": "test",
            },
        )
        assert fake.exchanges[0].body["messages"][0]["content"] == "Weather in Paris?"
    runs = server.get("/api/v1/runs", session="chat-1", service="weather-bot")["runs"]
    assert len(runs) == 1 and runs[0]["user"] == "alice"
    assert (runs[0]["llm_calls"], runs[0]["tool_calls"]) == (1, 1)
    steps = server.get(f"/api/v1/runs/{runs[0]['trace_id']}/timeline")["steps"]
    assert [s["kind"] for s in steps] == ["decision", "llm", "tool"]
