"""Real OpenTelemetry OTLP exporters (gRPC and HTTP) into a running agentreel server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from support.liveserver import RunningServer
from support.otlpbuild import new_span_id, new_trace_id, span, traces


def _exporter(server: RunningServer, protocol: str) -> SpanExporter:
    if protocol == "grpc":
        return GrpcExporter(endpoint=server.grpc_endpoint, insecure=True)
    return HttpExporter(endpoint=server.url + "/v1/traces")


def _agent_run(provider: TracerProvider, session: str) -> str:
    """An agent run: root, two LLM calls with a tool call between, a failing tool."""
    tracer = provider.get_tracer("tests.exporters")
    system = [{"type": "text", "content": "You book flights."}]
    user = {"role": "user", "parts": [{"type": "text", "content": "Fly me to Lisbon"}]}
    call = {
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": "call_1", "name": "search", "arguments": {"to": "LIS"}}
        ],
    }
    result = {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "TP123 at 9:00"}],
    }
    with tracer.start_as_current_span(
        "invoke_agent booker",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "booker",
            "gen_ai.conversation.id": session,
            "user.id": "u-42",
        },
    ) as root:
        for step, (inputs, outputs) in enumerate(
            [([user], [call]), ([user, call, result], [{"role": "assistant", "parts": []}])]
        ):
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.model": "gpt-4o-2024-08-06",
                    "gen_ai.usage.input_tokens": 100 + step,
                    "gen_ai.usage.output_tokens": 20,
                    "gen_ai.usage.cache_read.input_tokens": 64,
                    "gen_ai.system_instructions": json.dumps(system),
                    "gen_ai.input.messages": json.dumps(inputs),
                    "gen_ai.output.messages": json.dumps(outputs),
                },
            ):
                pass
            if step == 0:
                with tracer.start_as_current_span(
                    "execute_tool search",
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": "search",
                        "gen_ai.tool.call.id": "call_1",
                        "gen_ai.tool.call.arguments": '{"to": "LIS"}',
                        "gen_ai.tool.call.result": "TP123 at 9:00",
                    },
                ):
                    pass
        with tracer.start_as_current_span(
            "execute_tool pay", attributes={"gen_ai.tool.name": "pay"}
        ) as failing:
            failing.set_status(Status(StatusCode.ERROR, "card declined"))
            failing.set_attribute("error.type", "PaymentError")
        return f"{root.get_span_context().trace_id:032x}"


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_real_exporter_run_is_stored_normalized(server: RunningServer, protocol: str) -> None:
    session = f"s-{protocol}-{uuid.uuid4().hex[:6]}"
    provider = TracerProvider(resource=Resource.create({"service.name": f"svc-{protocol}"}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(server, protocol)))
    trace_id = _agent_run(provider, session)
    assert provider.force_flush(30_000)
    provider.shutdown()
    # force_flush returned after the server acknowledged, and it acknowledges once stored.
    listed = server.get("/api/v1/runs", session=session)
    assert [r["trace_id"] for r in listed["runs"]] == [trace_id]
    run = listed["runs"][0]
    assert (
        run["agent"] == "booker" and run["user"] == "u-42" and run["service"] == f"svc-{protocol}"
    )
    assert (run["spans"], run["llm_calls"], run["tool_calls"], run["errors"]) == (5, 2, 2, 1)
    assert run["status"] == "error" and run["models"] == ["gpt-4o-2024-08-06"]
    assert run["usage"]["input_tokens"] == 201 and run["usage"]["cache_read_tokens"] == 128

    detail = server.get(f"/api/v1/runs/{trace_id}")
    (root,) = detail["spans"]
    assert root["kind"] == "agent" and root["session"] == session
    kinds = [(c["kind"], c["name"]) for c in root["children"]]
    assert kinds == [
        ("llm", "chat gpt-4o"),
        ("tool", "execute_tool search"),
        ("llm", "chat gpt-4o"),
        ("tool", "execute_tool pay"),
    ]
    search = root["children"][1]
    assert search["tool"] == {
        "name": "search",
        "call_id": "call_1",
        "arguments": '{"to": "LIS"}',  # exactly as the tool span carried it
        "result": "TP123 at 9:00",
    }
    pay = root["children"][3]
    assert (pay["status"], pay["error_type"], pay["error_message"]) == (
        "error",
        "PaymentError",
        "card declined",
    )
    llm = root["children"][0]
    assert (llm["provider"], llm["model"], llm["request_model"]) == (
        "openai",
        "gpt-4o-2024-08-06",
        "gpt-4o",
    )
    assert llm["convention"] == "otel_genai" and llm["content"]["input_messages"] == 1

    calls = server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]
    assert len(calls) == 2
    assert calls[1]["system_instructions"] == [{"type": "text", "content": "You book flights."}]
    assert [m["role"] for m in calls[1]["input_messages"]] == ["user", "assistant", "tool"]
    assert calls[1]["input_messages"][1]["parts"][0]["arguments"] == {"to": "LIS"}


def test_a_retried_request_is_not_counted_twice(server: RunningServer) -> None:
    trace_id = new_trace_id()
    body = traces(
        [
            span(
                trace_id,
                new_span_id(),
                "chat",
                {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 7},
            )
        ]
    ).SerializeToString()
    headers = {"content-type": "application/x-protobuf"}
    before = server.get("/api/v1/stats")
    for _ in range(3):
        assert (
            httpx.post(server.url + "/v1/traces", content=body, headers=headers).status_code == 200
        )
    after = server.get("/api/v1/stats")
    assert after["spans"] - before["spans"] == 1
    assert after["llm_calls"] - before["llm_calls"] == 1
    run = server.get(f"/api/v1/runs/{trace_id.hex()}")["run"]
    assert run["usage"]["input_tokens"] == 7
    metrics = httpx.get(server.url + "/metrics").text
    assert "agentreel_spans_duplicate_total" in metrics


def test_stats_and_metrics_report(server: RunningServer) -> None:
    body = traces([span(new_trace_id(), new_span_id(), "s")]).SerializeToString()
    headers = {"content-type": "application/x-protobuf"}
    assert httpx.post(server.url + "/v1/traces", content=body, headers=headers).status_code == 200
    stats = server.get("/api/v1/stats")
    assert {"spans", "runs", "llm_calls", "storage_bytes"} <= stats.keys()
    assert stats["storage_bytes"] > 0
    text = httpx.get(server.url + "/metrics").text
    for name in (
        "agentreel_spans_received_total",
        "agentreel_spans_accepted_total",
        "agentreel_spans_rejected_total",
        "agentreel_queue_spans",
        "agentreel_write_seconds_bucket",
    ):
        assert name in text


def test_spans_whose_parents_loop_are_all_shown(server: RunningServer) -> None:
    trace_id, a, b = new_trace_id(), new_span_id(), new_span_id()
    body = traces([span(trace_id, a, "a", parent=b), span(trace_id, b, "b", parent=a)])
    headers = {"content-type": "application/x-protobuf"}
    response = httpx.post(
        server.url + "/v1/traces", content=body.SerializeToString(), headers=headers
    )
    assert response.status_code == 200
    tree = server.get(f"/api/v1/runs/{trace_id.hex()}")["spans"]
    assert sorted(s["name"] for s in tree) == ["a", "b"]


def test_rest_errors_are_clear(server: RunningServer) -> None:
    def get(path: str, **params: Any) -> httpx.Response:
        return httpx.get(server.url + path, params=params)

    missing = get(f"/api/v1/runs/{'ab' * 16}")
    assert missing.status_code == 404 and "no run" in missing.json()["detail"]
    assert get("/api/v1/runs/not-a-trace").status_code == 400
    assert (
        "sort must be one of" in get("/api/v1/runs", sort="name; DROP TABLE spans").json()["detail"]
    )
    assert get("/api/v1/runs", start_from="yesterday").status_code == 400
    assert get("/api/v1/runs", start_from="100", start_to="50").status_code == 400
    assert get("/api/v1/runs", limit=0).status_code == 422
    assert get("/api/v1/runs", agent="x' OR '1'='1").json()["runs"] == []
    bad_format = get(f"/api/v1/runs/{'ab' * 16}/llm-calls", format="cohere")
    assert bad_format.status_code == 400 and "format must be one of" in bad_format.json()["detail"]
    docs = get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "/api/v1/runs" in get("/openapi.json").json()["paths"]
