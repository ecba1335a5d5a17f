"""Pure decoding: protobuf and OTLP/JSON to the same spans; bad items rejected alone."""

from __future__ import annotations

import gzip
import zlib

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentreel.collector import decode
from agentreel.collector.anyvalue import MAX_DEPTH

from support.otlpbuild import (
    kv,
    nested,
    new_span_id,
    new_trace_id,
    span,
    to_json,
    traces,
    traces_of_raw_spans,
)


def _sample() -> tuple[object, bytes, bytes]:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    request = traces(
        [
            span(trace_id, root, "invoke_agent planner", {"gen_ai.agent.name": "planner"}),
            span(
                trace_id,
                child,
                "chat gpt-4o",
                {
                    "gen_ai.usage.input_tokens": 12,
                    "temperature": 0.5,
                    "stream": False,
                    "tags": ["a", "b"],
                    "nested": {"k": {"deeper": [1, 2]}},
                    "blob": b"\x00\x01",
                },
                parent=root,
                status=2,
                message="boom",
                events=[("exception", {"exception.type": "TimeoutError"})],
            ),
        ]
    )
    link = (
        request.resource_spans[0]
        .scope_spans[0]
        .spans[1]
        .links.add(trace_id=LINKED_TRACE, span_id=LINKED_SPAN)
    )
    link.attributes.append(kv("link.why", "retry of"))
    return request, trace_id, root


LINKED_TRACE, LINKED_SPAN = bytes(range(1, 17)), bytes(range(1, 9))


def test_protobuf_and_json_decode_to_the_same_spans() -> None:
    request, trace_id, root = _sample()
    from_proto = decode.decode_traces_proto(request.SerializeToString())  # type: ignore[attr-defined]
    from_json = decode.decode_traces_json(to_json(request))
    for decoded in (from_proto, from_json):
        assert not decoded.rejected
        assert [s.name for s in decoded.spans] == ["invoke_agent planner", "chat gpt-4o"]
        first, second = decoded.spans
        assert first.trace_id == trace_id and second.parent_span_id == root
        assert first.resource.service == "test-service"
        assert second.attributes == {
            "gen_ai.usage.input_tokens": 12,
            "temperature": 0.5,
            "stream": False,
            "tags": ["a", "b"],
            "nested": {"k": {"deeper": [1, 2]}},
            "blob": b"\x00\x01",
        }
        assert (second.status_code, second.status_message) == (2, "boom")
        assert second.events[0].attributes == {"exception.type": "TimeoutError"}
        assert second.links == [
            {
                "trace_id": LINKED_TRACE.hex(),
                "span_id": LINKED_SPAN.hex(),
                "attributes": {"link.why": "retry of"},
            }
        ]
        assert second.end_ns - second.start_ns == 1_000_000


@pytest.mark.parametrize(
    ("trace_id", "span_id", "reason"),
    [
        (bytes(16), new_span_id(), "trace id"),
        (new_trace_id(), bytes(8), "span id"),
        (b"", new_span_id(), "trace id"),
        (new_trace_id(), b"\x01\x02", "span id"),
    ],
    # Named, not shown: the random ids would differ between pytest-xdist's workers.
    ids=["zero-trace-id", "zero-span-id", "empty-trace-id", "short-span-id"],
)
def test_bad_ids_reject_only_that_span(trace_id: bytes, span_id: bytes, reason: str) -> None:
    good = span(new_trace_id(), new_span_id(), "good")
    bad = span(new_trace_id(), new_span_id(), "bad")
    bad.trace_id, bad.span_id = trace_id, span_id
    decoded = decode.decode_traces_proto(traces([good, bad, good]).SerializeToString())
    assert [s.name for s in decoded.spans] == ["good", "good"]
    assert len(decoded.rejected) == 1
    assert decoded.rejected[0].index == 1 and reason in decoded.rejected[0].reason


def test_json_bad_hex_and_bad_values_reject_only_that_span() -> None:
    body = orjson.loads(to_json(traces([span(new_trace_id(), new_span_id(), "ok")])))
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    ok = spans[0]
    spans.append({**ok, "traceId": "zz" * 16, "name": "bad hex"})
    spans.append({**ok, "attributes": [{"key": "x", "value": {"intValue": "twelve"}}]})
    spans.append({**ok, "attributes": [{"key": "x", "value": "not an AnyValue"}]})
    spans.append({**ok, "kind": "SPAN_KIND_WHATEVER"})
    decoded = decode.decode_traces_json(orjson.dumps(body))
    assert [s.name for s in decoded.spans] == ["ok"]
    reasons = [r.reason for r in decoded.rejected]
    assert len(reasons) == 4
    assert "not hex" in reasons[0] and "intValue" in reasons[1]
    assert "must be an object" in reasons[2] and "kind" in reasons[3]


def test_json_accepts_snake_case_and_numeric_ints() -> None:
    trace_id, span_id = new_trace_id().hex(), new_span_id().hex()
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": trace_id,
                                "span_id": span_id,
                                "name": "s",
                                "start_time_unix_nano": 5,
                                "end_time_unix_nano": "7",
                                "attributes": [{"key": "n", "value": {"intValue": 3}}],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    decoded = decode.decode_traces_json(orjson.dumps(body))
    assert decoded.spans[0].start_ns == 5 and decoded.spans[0].end_ns == 7
    assert decoded.spans[0].attributes == {"n": 3}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x0a\xff\xff\xff", "not a valid ExportTraceServiceRequest"),
        (b"{}{", None),
    ],
)
def test_malformed_requests_raise(body: bytes, message: str | None) -> None:
    if message:
        with pytest.raises(decode.DecodeError, match=message):
            decode.decode_traces_proto(body)
    with pytest.raises(decode.DecodeError, match="JSON"):
        decode.decode_traces_json(b"{}{")


def test_json_structure_errors_say_where() -> None:
    with pytest.raises(decode.DecodeError, match=r"resourceSpans\[0\].scopeSpans must be a list"):
        decode.decode_traces_json(b'{"resourceSpans": [{"scopeSpans": 5}]}')
    with pytest.raises(decode.DecodeError, match="must be a JSON object"):
        decode.decode_traces_json(b"[1, 2]")


def _fine(name: str = "fine") -> bytes:
    return bytes(span(new_trace_id(), new_span_id(), name).SerializeToString())


def _deep(levels: int, where: str = "attribute") -> bytes:
    one = span(new_trace_id(), new_span_id(), f"deep {levels}")
    if where == "attribute":
        one.attributes.append(kv("deep", nested(levels)))
    elif where == "event":
        one.events.add(name="e").attributes.append(kv("deep", nested(levels)))
    else:
        one.links.add(trace_id=new_trace_id(), span_id=new_span_id()).attributes.append(
            kv("deep", nested(levels))
        )
    return bytes(one.SerializeToString())


@pytest.mark.parametrize("where", ["attribute", "event", "link"])
def test_protobuf_nesting_works_exactly_at_the_limit(where: str) -> None:
    body = traces_of_raw_spans([_fine("a"), _deep(MAX_DEPTH, where), _deep(MAX_DEPTH + 1, where)])
    with pytest.raises(Exception, match="MaxDepth"):  # upb refuses the request whole
        ExportTraceServiceRequest.FromString(body)
    decoded = decode.decode_traces_proto(body)
    assert [s.name for s in decoded.spans] == ["a", f"deep {MAX_DEPTH}"]
    assert len(decoded.rejected) == 1
    assert decoded.rejected[0].reason == (
        f"span 2: attribute value nested deeper than {MAX_DEPTH} levels (max_anyvalue_depth)"
    )
    kept = decoded.spans[1]
    holder = {
        "attribute": kept.attributes,
        "event": kept.events[0].attributes if kept.events else {},
        "link": kept.links[0]["attributes"] if kept.links else {},
    }[where]
    assert holder["deep"] == nested(MAX_DEPTH)


def test_invalid_utf8_in_one_protobuf_span_rejects_it_alone() -> None:
    bad = _fine("placeholder").replace(b"placeholder", b"placeh\xffl\xfeer")
    decoded = decode.decode_traces_proto(traces_of_raw_spans([_fine("a"), bad, _fine("b")]))
    assert [s.name for s in decoded.spans] == ["a", "b"]
    assert [r.reason for r in decoded.rejected] == ["span 1: a string field is not valid UTF-8"]


def test_invalid_utf8_in_a_protobuf_resource_rejects_its_spans() -> None:
    body = traces_of_raw_spans([_fine("a"), _fine("b")], service="service-name")
    body = body.replace(b"service-name", b"service\xffname")
    decoded = decode.decode_traces_proto(body)
    assert decoded.spans == [] and len(decoded.rejected) == 2
    assert "resource" in decoded.rejected[0].reason and "UTF-8" in decoded.rejected[0].reason


def test_invalid_utf8_in_one_protobuf_log_record_rejects_it_alone() -> None:
    from support.otlpbuild import log_record, logs

    records = [
        log_record(new_trace_id(), new_span_id(), "gen_ai.user.message", {"content": c}, 1)
        for c in ("first", "placeholder", "third")
    ]
    raw = logs(records).SerializeToString().replace(b"placeholder", b"placeh\xffl\xfeer")
    decoded = decode.decode_logs_proto(raw)
    assert [log.body for log in decoded.logs] == [{"content": "first"}, {"content": "third"}]
    assert [r.reason for r in decoded.rejected] == [
        "log record 1: a string field is not valid UTF-8"
    ]


def test_broken_protobuf_framing_is_still_refused_whole() -> None:
    body = traces_of_raw_spans([_fine("a")])
    with pytest.raises(decode.DecodeError, match="not a valid ExportTraceServiceRequest"):
        decode.decode_traces_proto(body[:-3])


def _json_spans(*names: str) -> bytes:
    request = traces([span(new_trace_id(), new_span_id(), name) for name in names])
    return to_json(request)


@pytest.mark.parametrize(
    ("flaw", "raw"),
    [("a lone surrogate", b"\\ud800"), ("a byte that is not UTF-8", b"\xff")],
)
def test_a_json_string_that_is_not_utf8_rejects_that_span_alone(flaw: str, raw: bytes) -> None:
    body = _json_spans("a", "placeholder", "c").replace(b"placeholder", b"bad " + raw)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    decoded = decode.decode_traces_json(body)
    assert [s.name for s in decoded.spans] == ["a", "c"], flaw
    assert len(decoded.rejected) == 1 and decoded.rejected[0].reason.startswith("span 1: ")
    assert "not valid UTF-8 (a lone surrogate" in decoded.rejected[0].reason


def test_a_json_scope_or_resource_that_is_not_utf8_rejects_its_spans() -> None:
    body = _json_spans("a", "b").replace(b'"tests"', b'"te\\udc00sts"')
    decoded = decode.decode_traces_json(body)
    assert decoded.spans == [] and len(decoded.rejected) == 2
    assert "its scope holds a string" in decoded.rejected[0].reason
    body = _json_spans("a").replace(b'"test-service"', b'"te\\ud800"')
    decoded = decode.decode_traces_json(body)
    assert decoded.spans == [] and "its resource attributes" in decoded.rejected[0].reason


def test_json_log_record_with_a_lone_surrogate_is_rejected_alone() -> None:
    from support.otlpbuild import log_record, logs

    records = [
        log_record(new_trace_id(), new_span_id(), "gen_ai.user.message", {"content": c}, 1)
        for c in ("first", "placeholder")
    ]
    body = to_json(logs(records)).replace(b"placeholder", b"\\udfff")
    decoded = decode.decode_logs_json(body)
    assert [log.body for log in decoded.logs] == [{"content": "first"}]
    assert decoded.rejected[0].reason.startswith("log record 1: ")


@pytest.mark.parametrize("body", [b'{"resourceSpans": NaN}', b'{"a": 1e999, "b": "\\ud800"}'])
def test_json_the_lenient_reader_takes_nothing_orjson_would_not(body: bytes) -> None:
    with pytest.raises(decode.DecodeError, match="not valid JSON"):
        decode.decode_traces_json(body)


def test_nesting_deeper_than_the_limit_rejects_the_span() -> None:
    value: object = "leaf"
    for _ in range(MAX_DEPTH + 2):
        value = [value]
    deep = span(new_trace_id(), new_span_id(), "deep")
    deep.attributes.append(kv("deep", value))
    decoded = decode.decode_traces_proto(
        traces([deep, span(new_trace_id(), new_span_id(), "fine")]).SerializeToString()
    )
    assert [s.name for s in decoded.spans] == ["fine"]
    assert "nested deeper" in decoded.rejected[0].reason


def test_inflate() -> None:
    body = b"x" * 1000
    assert decode.inflate(gzip.compress(body), "gzip", 2000) == body
    assert decode.inflate(zlib.compress(body), "deflate", 2000) == body
    assert decode.inflate(body, "", 10) == body
    with pytest.raises(decode.TooLarge):
        decode.inflate(gzip.compress(b"\0" * 10_000_000), "gzip", 1_000_000)
    with pytest.raises(decode.DecodeError, match="not valid gzip"):
        decode.inflate(b"definitely not gzip", "gzip", 100)
    with pytest.raises(decode.DecodeError, match="truncated"):
        decode.inflate(gzip.compress(body)[:-12], "gzip", 2000)
    with pytest.raises(decode.DecodeError, match="Content-Encoding"):
        decode.inflate(body, "br", 2000)


def test_log_records_with_ids_of_the_wrong_length_are_rejected_alone() -> None:
    from support.otlpbuild import log_record, logs

    good = log_record(new_trace_id(), new_span_id(), "gen_ai.user.message", {"content": "x"}, 1)
    bad = log_record(b"\x01\x02", new_span_id(), "gen_ai.user.message", {"content": "y"}, 2)
    decoded = decode.decode_logs_proto(logs([good, bad]).SerializeToString())
    assert len(decoded.logs) == 1 and len(decoded.rejected) == 1
    assert "trace id must be 16 bytes" in decoded.rejected[0].reason
