"""Odd values from real-world emitters, end to end: a running server, a real store.

Each request mixes a good span with the odd one. The good span is always stored, the server
keeps serving, and nothing answers 500.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

from support.liveserver import RunningServer
from support.otlpbuild import log_record, logs, new_span_id, new_trace_id

JSON = {"content-type": "application/json"}
PB = {"content-type": "application/x-protobuf"}


def _span(trace: str, name: str, attributes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "traceId": trace,
        "spanId": new_span_id().hex(),
        "name": name,
        "startTimeUnixNano": "1763700000000000000",
        "endTimeUnixNano": "1763700001000000000",
        "attributes": attributes,
        **extra,
    }


def _send(server: RunningServer, spans: list[dict[str, Any]]) -> httpx.Response:
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    return httpx.post(server.url + "/v1/traces", content=orjson.dumps(body), headers=JSON)


def _attr(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


ODD = {
    "huge int attribute": ([_attr("n", {"intValue": "1" + "0" * 30})], "rejected"),
    "token count 1e999": ([_attr("gen_ai.usage.input_tokens", {"stringValue": "1e999"})], "kept"),
    "token count -1": ([_attr("gen_ai.usage.input_tokens", {"intValue": "-1"})], "kept"),
    "cost NaN": ([_attr("llm.cost.total", {"stringValue": "NaN"})], "kept"),
    "tool arguments as bytes": (
        [
            _attr("gen_ai.operation.name", {"stringValue": "execute_tool"}),
            _attr("gen_ai.tool.call.arguments", {"bytesValue": "AAEC"}),
        ],
        "stored",
    ),
    "bytes inside structured messages": (
        [
            _attr("gen_ai.operation.name", {"stringValue": "chat"}),
            _attr(
                "gen_ai.input.messages",
                {
                    "arrayValue": {
                        "values": [
                            {
                                "kvlistValue": {
                                    "values": [
                                        _attr("role", {"stringValue": "user"}),
                                        _attr("parts", {"bytesValue": "AAEC"}),
                                    ]
                                }
                            }
                        ]
                    }
                },
            ),
        ],
        "stored",
    ),
    "messages that are JSON but not a list": (
        [
            _attr("gen_ai.operation.name", {"stringValue": "chat"}),
            _attr("gen_ai.input.messages", {"stringValue": '{"role": "user", "parts": 5}'}),
        ],
        "stored",
    ),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_values_break_nothing_else(server: RunningServer, case: str) -> None:
    attributes, outcome = ODD[case]
    trace = new_trace_id().hex()
    good = _span(
        trace, "good", [_attr("gen_ai.agent.name", {"stringValue": f"bad-{uuid.uuid4().hex[:6]}"})]
    )
    odd = _span(trace, "odd", attributes)
    response = _send(server, [good, odd])
    assert response.status_code == 200, response.text
    partial = response.json().get("partialSuccess", {})
    names = {s["name"]: s for s in _flatten(server.get(f"/api/v1/runs/{trace}")["spans"])}
    assert "good" in names
    if outcome == "rejected":
        assert partial["rejectedSpans"] == "1" and "64-bit" in partial["errorMessage"]
        assert "odd" not in names
    else:
        assert "odd" in names
        if outcome == "kept":  # not a valid count or cost: kept as it came
            assert attributes[0]["key"] in names["odd"]["attributes"]
            assert names["odd"]["usage"]["input_tokens"] == 0 and names["odd"]["cost_usd"] == 0


def test_times_outside_the_store_range_reject_the_span(server: RunningServer) -> None:
    trace = new_trace_id().hex()
    spans = [
        _span(trace, "good", []),
        _span(trace, "far future", [], endTimeUnixNano="18446744073709551615"),
        _span(trace, "negative", [], startTimeUnixNano="-5"),
    ]
    response = _send(server, spans)
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2" and "between 1970 and 2262" in partial["errorMessage"]
    assert [s["name"] for s in server.get(f"/api/v1/runs/{trace}")["spans"]] == ["good"]


def test_odd_log_bodies_break_nothing_else(server: RunningServer) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    records = [
        log_record(trace_id, span_id, "gen_ai.user.message", {"content": "fine"}, 1),
        log_record(trace_id, span_id, "gen_ai.user.message", b"\x00\x01", 2),
        log_record(trace_id, span_id, "gen_ai.assistant.message", {"tool_calls": 5}, 3),
        log_record(
            trace_id, span_id, "gen_ai.assistant.message", {"tool_calls": [{"function": "x"}]}, 4
        ),
        log_record(trace_id, span_id, "gen_ai.choice", {"message": "plain text answer"}, 5),
    ]
    response = httpx.post(
        server.url + "/v1/logs", content=logs(records).SerializeToString(), headers=PB
    )
    assert response.status_code == 200
    assert server.get("/healthz")["status"] == "ok"


def _flatten(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in tree:
        out.append(node)
        out += _flatten(node["children"])
    return out


def test_protobuf_times_outside_the_store_range_reject_the_span(server: RunningServer) -> None:
    from support.otlpbuild import span, traces

    trace_id = new_trace_id()
    good = span(trace_id, new_span_id(), "good")
    late = span(trace_id, new_span_id(), "far future")
    late.end_time_unix_nano = 2**64 - 1
    response = httpx.post(
        server.url + "/v1/traces",
        content=traces([good, late]).SerializeToString(),
        headers=PB,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert response.status_code == 200 and partial.rejected_spans == 1
    assert "between 1970 and 2262" in partial.error_message
    assert [s["name"] for s in server.get(f"/api/v1/runs/{trace_id.hex()}")["spans"]] == ["good"]
