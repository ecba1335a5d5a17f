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


def _raw_span(trace_id: bytes, name: str, levels: int = 0) -> bytes:
    from support.otlpbuild import kv, nested, span

    one = span(trace_id, new_span_id(), name)
    if levels:
        one.attributes.append(kv("deep", nested(levels)))
    return bytes(one.SerializeToString())


def _export(server: RunningServer, transport: str, body: bytes) -> tuple[int, str]:
    """Send one trace export; (rejected spans, error message) from its partial_success."""
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    if transport == "grpc":
        with grpc.insecure_channel(server.grpc_endpoint) as channel:
            export = channel.unary_unary(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                request_serializer=None,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            partial = export(body, timeout=30).partial_success
            return partial.rejected_spans, partial.error_message
    headers = JSON if transport == "json" else PB
    response = httpx.post(server.url + "/v1/traces", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    if transport == "json":
        partial = response.json().get("partialSuccess", {})
        return int(partial.get("rejectedSpans", 0)), partial.get("errorMessage", "")
    parsed = ExportTraceServiceResponse.FromString(response.content).partial_success
    return parsed.rejected_spans, parsed.error_message


def _stored_names(server: RunningServer, trace_id: bytes) -> list[str]:
    return sorted(
        s["name"] for s in _flatten(server.get(f"/api/v1/runs/{trace_id.hex()}")["spans"])
    )


def _json_nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(levels):
        value = {"kvlistValue": {"values": [_attr("k", value)]}}
    return value


@pytest.mark.parametrize("transport", ["http-protobuf", "grpc", "json"])
def test_nesting_at_the_limit_is_kept_and_one_deeper_rejected_alone(
    server: RunningServer, transport: str
) -> None:
    from support.otlpbuild import traces_of_raw_spans

    trace_id = new_trace_id()
    if transport == "json":
        spans = [
            _span(trace_id.hex(), name, [_attr("deep", _json_nested(levels))] if levels else [])
            for name, levels in [("good", 0), ("at the limit", 32), ("one deeper", 33)]
        ]
        body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    else:
        body = traces_of_raw_spans(
            [
                _raw_span(trace_id, "good"),
                _raw_span(trace_id, "at the limit", 32),
                _raw_span(trace_id, "one deeper", 33),
            ]
        )
    rejected, message = _export(server, transport, body)
    assert rejected == 1 and "span 2: attribute value nested deeper than 32 levels" in message
    assert _stored_names(server, trace_id) == ["at the limit", "good"]
    run = server.get(f"/api/v1/runs/{trace_id.hex()}")
    kept = next(s for s in _flatten(run["spans"]) if s["name"] == "at the limit")
    value, levels = kept["attributes"]["deep"], 0
    value = orjson.loads(value) if isinstance(value, str) else value  # maps come back as JSON
    while isinstance(value, dict):
        value, levels = value["k"], levels + 1
    assert (levels, value) == (32, "leaf")


@pytest.mark.parametrize("transport", ["http-protobuf", "grpc"])
def test_invalid_utf8_in_one_protobuf_span_rejects_it_alone(
    server: RunningServer, transport: str
) -> None:
    from support.otlpbuild import traces_of_raw_spans

    trace_id = new_trace_id()
    bad = _raw_span(trace_id, "placeholder").replace(b"placeholder", b"place\xffholder")
    body = traces_of_raw_spans([_raw_span(trace_id, "good"), bad, _raw_span(trace_id, "also")])
    rejected, message = _export(server, transport, body)
    assert (rejected, message) == (1, "1 span rejected: span 1: a string field is not valid UTF-8")
    assert _stored_names(server, trace_id) == ["also", "good"]


@pytest.mark.parametrize("raw", [b"\\ud800", b"\xff"], ids=["lone surrogate", "bad byte"])
def test_a_json_span_name_that_is_not_utf8_is_rejected_alone(
    server: RunningServer, raw: bytes
) -> None:
    trace = new_trace_id()
    spans = [_span(trace.hex(), name, []) for name in ("good", "placeholder", "also")]
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    response = httpx.post(
        server.url + "/v1/traces", content=body.replace(b"placeholder", raw), headers=JSON
    )
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "span 1: " in partial["errorMessage"]
    assert "not valid UTF-8" in partial["errorMessage"]
    assert _stored_names(server, trace) == ["also", "good"]


def test_a_token_count_past_the_bound_is_not_counted_nor_priced(server: RunningServer) -> None:
    trace = new_trace_id().hex()
    chat = [
        _attr("gen_ai.operation.name", {"stringValue": "chat"}),
        _attr("gen_ai.request.model", {"stringValue": "gpt-4o"}),
        _attr("gen_ai.provider.name", {"stringValue": "openai"}),
    ]
    sane = _span(trace, "sane", [*chat, _attr("gen_ai.usage.input_tokens", {"intValue": "1000"})])
    huge = _span(
        trace,
        "huge",
        [*chat, _attr("gen_ai.usage.input_tokens", {"intValue": str(2**63 - 1)})],
    )
    response = _send(server, [sane, huge])
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "0"
    assert f"span {huge['spanId']}: input_tokens {2**63 - 1}" in partial["errorMessage"]
    assert "(max_tokens_per_span)" in partial["errorMessage"]
    spans = {s["name"]: s for s in _flatten(server.get(f"/api/v1/runs/{trace}")["spans"])}
    assert spans["huge"]["usage"]["input_tokens"] == 0 and spans["huge"]["cost_usd"] == 0
    assert spans["sane"]["usage"]["input_tokens"] == 1000
    assert 0 < spans["sane"]["cost_usd"] < 0.01  # 1000 gpt-4o input tokens
    listed = [r for r in server.get("/api/v1/runs", limit=500)["runs"] if r["trace_id"] == trace]
    assert listed[0]["cost_usd"] == pytest.approx(spans["sane"]["cost_usd"])
