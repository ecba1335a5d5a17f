"""Property-based fuzzing of the ingest path: decode, normalize, write, read back.

1. Decoding any bytes or any JSON raises nothing but ``DecodeError``, and every span or log
   record of a request that decodes is either decoded or listed in ``rejected``.
2. Normalizing whatever decoding returned never raises and keeps the store's invariants
   (ids, times, token counts, cost, content addresses).
3. The writer stores a random batch, each span once, and stores nothing on a second write;
   the read paths (``trace_spans``, ``llm_calls``) take whatever was stored.
4. The limits bound whatever decoded (attribute counts, value lengths; every span kept or
   rejected), and the spool reads back any bytes on disk without raising, finding every
   intact record among garbage.

Inputs that failed while these were written are pinned with ``@example``: each property
runs them first, every time, whatever the random search draws.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.message import DecodeError as ProtoDecodeError
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from agentreel.collector import decode, wire
from agentreel.collector.normalize import normalize_logs, normalize_spans
from agentreel.collector.normalize.genai import OPERATION_KINDS
from agentreel.collector.normalize.openinference import SPAN_KINDS
from agentreel.collector.normalize.openllmetry import REQUEST_TYPES, TRACELOOP_KINDS
from agentreel.collector.usage import TOKEN_FIELDS
from agentreel.core.content import LIT, REF, address, expand, leaf_refs, text_item
from agentreel.core.model import KINDS, ContentItem, Decoded, Span
from agentreel.replay.windows import llm_calls, resolve
from agentreel.storage import queries
from agentreel.storage.writer import Writer

from support.otlpbuild import kv, log_record, logs, span, to_json, traces

MAX_NS = 2**63 - 1
MAX_COUNT = 2**63 - 1
UINT64_MAX = 2**64 - 1
NOW_NS = 1_763_700_000_000_000_000
ANTHROPIC_SDK = "com.anthropic.sdk.python"
HEX = re.compile(r"[0-9a-f]*")

Body = tuple[str, bytes]  # ("proto" | "json", request body)

# Pure-Python properties are cheap: more examples. No example database: nothing is written
# into the repository, and failures print their reproducing input.
FAST = settings(max_examples=150, deadline=None, database=None)
STORE = settings(max_examples=25, deadline=None, database=None)
STORE_FEW = settings(max_examples=12, deadline=None, database=None)


# --- leaves -------------------------------------------------------------------------------


def _pick(*options: tuple[int, SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """One of ``(weight, strategy)`` options, shrinking towards the first. (``one_of`` counts
    a repeated strategy once, so it cannot weigh.)"""
    table = [i for i, (weight, _) in enumerate(options) for _ in range(weight)]
    return st.sampled_from(table).flatmap(lambda i: options[i][1])


def _name(camel: str) -> SearchStrategy[str]:
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return st.sampled_from([camel, camel, snake])


def _record(
    required: dict[str, SearchStrategy[Any]],
    optional: dict[str, SearchStrategy[Any]] | None = None,
    *,
    snake: bool = False,
) -> SearchStrategy[dict[str, Any]]:
    """An object with ``required`` and most of ``optional`` (each present 3 times in 4);
    with ``snake``, each field under its camelCase or its snake_case name."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in required.items():
            out[draw(_name(name)) if snake else name] = draw(value)
        for name, value in (optional or {}).items():
            if draw(st.sampled_from([True, True, True, False])):
                out[draw(_name(name)) if snake else name] = draw(value)
        return out

    return build()


def _obj(
    required: dict[str, SearchStrategy[Any]], optional: dict[str, SearchStrategy[Any]] | None = None
) -> SearchStrategy[dict[str, Any]]:
    """An OTLP/JSON object: any field under its camelCase or snake_case name."""
    return _record(required, optional, snake=True)


#: Any text a protobuf string may hold (valid UTF-8: no lone surrogates).
texts = st.text(max_size=12)
#: Any Python str, lone surrogates included (JSON escapes them as \udXXX).
wild_texts = st.text(st.characters(exclude_categories=()), max_size=12)
#: Strings long enough to become content leaves of their own (``LEAF_MIN_CHARS``).
long_texts = st.text(min_size=1, max_size=3).map(lambda s: (s * 300)[:300])
int64s = st.integers(-(2**63), 2**63 - 1)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
any_floats = st.floats()
hashes_hex = st.binary(min_size=16, max_size=16).map(bytes.hex)

#: Values a number-reading attribute could carry, valid or not.
token_values: SearchStrategy[Any] = st.one_of(
    st.integers(0, MAX_COUNT),
    st.sampled_from([0, 1, -1, MAX_COUNT, MAX_COUNT - 1, 2**62, -(2**63)]),
    any_floats,
    st.sampled_from(["12", "-1", "1e999", "NaN", "Infinity", "-0", " 7 ", "1_000", "0x10", ""]),
    st.integers(0, 2**70).map(str),
    texts,
    st.booleans(),
)

#: Scalars a protobuf AnyValue holds (via ``otlpbuild.any_value``).
proto_scalars: SearchStrategy[Any] = st.one_of(
    texts, int64s, any_floats, st.booleans(), st.binary(max_size=8)
)
#: Scalars OTLP/JSON text may hold: any size of integer, any text.
json_scalars: SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), finite_floats, texts
)
wild_json_scalars: SearchStrategy[Any] = st.one_of(json_scalars, wild_texts)

#: Keys the content store and the message readers give meaning to, and random ones.
json_keys = st.one_of(
    st.sampled_from(
        [
            "role",
            "parts",
            "type",
            "content",
            "id",
            "name",
            "arguments",
            "response",
            "result",
            "finish_reason",
            "text",
            "tool_use_id",
            "input",
            "thinking",
            "is_error",
            "message",
            "tool_calls",
            "function",
            REF,
            LIT,
        ]
    ),
    texts,
)


def _tree(leaf: SearchStrategy[Any], leaves: int = 8) -> SearchStrategy[Any]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(json_keys, inner, max_size=3)
        ),
        max_leaves=leaves,
    )


def _nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _content_values(leaf: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """What a part's content, arguments or response may be, escape markers included."""
    return _pick(
        (3, leaf),
        (1, long_texts),
        (2, st.dictionaries(st.sampled_from([REF, LIT]), _tree(leaf, 3), min_size=1, max_size=1)),
        (1, st.builds(lambda h: {REF: h}, hashes_hex)),
        (1, _tree(leaf, 4)),
    )


def _messages(leaf: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """Message-shaped values (OTel GenAI ``role`` + ``parts``), bent in every way."""
    content = _content_values(leaf)
    part = _record(
        {
            "type": st.one_of(
                st.sampled_from(["text", "tool_call", "tool_call_response", "reasoning", "uri"]),
                leaf,
            )
        },
        {
            "content": content,
            "id": leaf,
            "name": leaf,
            "arguments": content,
            "response": content,
            "result": content,
        },
    )
    message = _record(
        {"role": st.one_of(st.sampled_from(["user", "assistant", "system", "tool"]), leaf)},
        {
            "parts": st.one_of(st.lists(st.one_of(part, leaf), max_size=3), leaf),
            "finish_reason": leaf,
            "name": leaf,
        },
    )
    # Lists of messages (input, output), lists of parts (system instructions), one of either,
    # or anything.
    return _pick(
        (3, st.lists(message, max_size=3)),
        (2, message),
        (2, st.lists(part, max_size=3)),
        (1, part),
        (1, _tree(leaf)),
    )


def _json_text(value: Any, ascii_only: bool = True) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)


#: JSON text for a content attribute: messages, anything, broken or too deep to re-encode.
json_texts: SearchStrategy[str] = _pick(
    (4, st.builds(_json_text, _messages(json_scalars))),
    (1, st.builds(_json_text, _tree(json_scalars))),
    (
        1,
        st.builds(lambda v, cut: _json_text(v)[:cut], _messages(json_scalars), st.integers(0, 40)),
    ),
    # Deep enough that orjson parses it (<= 1024 levels) but cannot encode it (> 254).
    (1, st.one_of(st.integers(0, 300), st.integers(250, 300)).map(lambda n: "[" * n + "]" * n)),
    (1, texts),
)

#: Structured (AnyValue) attribute values, some nested deeper than decoding accepts.
proto_values: SearchStrategy[Any] = st.one_of(
    proto_scalars,
    _tree(proto_scalars, 6),
    st.integers(28, 36).map(_nested),
)


#: Structured messages: every leaf a protobuf scalar (an AnyValue has no null).
structured_messages = _messages(proto_scalars)


# --- attributes in the conventions' key spaces -----------------------------------------------

TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.total_tokens",
    "llm.usage.total_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
    "llm.token_count.prompt_details.cache_read",
    "llm.token_count.prompt_details.cache_write",
    "llm.token_count.completion_details.reasoning",
    "gen_ai.usage.cost",
    "gen_ai.usage.cost_usd",
    "llm.cost.total",
)
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "input.value",
    "output.value",
    "traceloop.entity.input",
    "traceloop.entity.output",
    "llm.invocation_parameters",
)
MARKERS: dict[str, list[str]] = {
    "gen_ai.operation.name": [*OPERATION_KINDS, ""],
    "gen_ai.provider.name": ["openai", "anthropic", ""],
    "gen_ai.system": ["openai", "anthropic"],
    "openinference.span.kind": [*SPAN_KINDS, "llm", "UNKNOWN"],
    "llm.request.type": [*REQUEST_TYPES, "other"],
    "traceloop.span.kind": [*TRACELOOP_KINDS, "other"],
    "agentreel.span.kind": [*KINDS, "not-a-kind"],
}
OTHER_KEYS = (
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.request.temperature",
    "gen_ai.tool.name",
    "gen_ai.tool.call.id",
    "gen_ai.agent.name",
    "gen_ai.conversation.id",
    "session.id",
    "user.id",
    "error.type",
    "llm.model_name",
    "llm.provider",
    "tool.name",
    "tool_call.id",
    "traceloop.entity.name",
    "traceloop.association.properties.session_id",
    "agentreel.decision.chosen",
    "agentreel.escalation.reason",
    "agentreel.links",
)
MESSAGE_FIELDS = (
    "message.role",
    "message.content",
    "message.name",
    "message.tool_call_id",
    "message.contents.0.message_content.type",
    "message.contents.0.message_content.text",
    "message.contents.1.message_content.image.image.url",
    "message.contents.1.tool_call.id",
    "message.tool_calls.0.tool_call.id",
    "message.tool_calls.0.tool_call.function.name",
    "message.tool_calls.0.tool_call.function.arguments",
)
PROMPT_FIELDS = (
    "role",
    "content",
    "tool_call_id",
    "finish_reason",
    "tool_calls.0.id",
    "tool_calls.0.name",
    "tool_calls.0.arguments",
    "tool_calls.1.name",
)
INDEXED: dict[str, tuple[str, ...]] = {
    "llm.input_messages.": MESSAGE_FIELDS,
    "llm.output_messages.": MESSAGE_FIELDS,
    "llm.tools.": ("tool.json_schema", "tool.name"),
    "gen_ai.prompt.": PROMPT_FIELDS,
    "gen_ai.completion.": PROMPT_FIELDS,
    "llm.request.functions.": ("name", "description", "parameters", "extra"),
}

#: Values for any key: scalars, structured values, JSON text.
attribute_values: SearchStrategy[Any] = st.one_of(
    proto_scalars, proto_values, json_texts, token_values
)


@st.composite
def _indexed_pair(draw: st.DrawFn) -> tuple[str, Any]:
    prefix = draw(st.sampled_from(sorted(INDEXED)))
    index = draw(st.one_of(st.integers(0, 3).map(str), st.sampled_from(["00", "10", "\u0663"])))
    field = draw(st.sampled_from(INDEXED[prefix]))
    value = draw(st.one_of(proto_scalars, json_texts, proto_values))
    return f"{prefix}{index}.{field}", value


attribute_pairs: SearchStrategy[tuple[str, Any]] = _pick(
    (2, st.tuples(st.sampled_from(TOKEN_KEYS), token_values)),
    (
        2,
        st.sampled_from(sorted(MARKERS)).flatmap(
            lambda key: st.tuples(
                st.just(key), st.one_of(st.sampled_from(MARKERS[key]), proto_scalars)
            )
        ),
    ),
    (
        3,
        st.tuples(
            st.sampled_from(CONTENT_KEYS),
            _pick((3, json_texts), (2, structured_messages), (1, proto_values)),
        ),
    ),
    (3, _indexed_pair()),
    (1, st.tuples(st.sampled_from(OTHER_KEYS), attribute_values)),
    (1, st.tuples(texts, attribute_values)),
)
#: Each convention's token keys together, so counts meet their totals and each other.
USAGE_SETS: tuple[tuple[dict[str, str], tuple[str, ...]], ...] = (
    ({}, TOKEN_KEYS[:9]),
    ({"openinference.span.kind": "LLM"}, tuple(k for k in TOKEN_KEYS if k.startswith("llm."))),
)
#: Counts near the top of the range are where sums and conversions break.
big_counts = st.one_of(
    st.integers(2**62, MAX_COUNT),
    st.sampled_from([MAX_COUNT, str(2**63), str(2**64 - 1), 9.3e18]),
)
usage_sets: SearchStrategy[dict[str, Any]] = st.sampled_from(USAGE_SETS).flatmap(
    lambda usage: st.fixed_dictionaries(
        {k: st.just(v) for k, v in usage[0].items()},
        optional=dict.fromkeys(usage[1], st.one_of(big_counts, token_values)),
    )
)
#: An OTel GenAI call or tool span's content keys together, as JSON text or structured.
genai_content = _record(
    {"gen_ai.operation.name": st.sampled_from(["chat", "execute_tool", "invoke_agent"])},
    dict.fromkeys(
        [
            "gen_ai.system_instructions",
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.tool.definitions",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
        ],
        _pick((3, json_texts), (2, structured_messages)),
    ),
)
attributes: SearchStrategy[dict[str, Any]] = st.builds(
    lambda pairs, usage, content: {**dict(pairs), **usage, **content},
    st.lists(attribute_pairs, max_size=10),
    st.one_of(st.just({}), usage_sets),
    st.one_of(st.just({}), genai_content),
)


# --- whole requests ---------------------------------------------------------------------------


def _ids(size: int) -> SearchStrategy[bytes]:
    """Mostly valid ids; sometimes all zero, empty or the wrong length."""
    valid = st.binary(min_size=size, max_size=size).map(lambda b: b if any(b) else b[:-1] + b"\x01")
    return _pick((12, valid), (1, st.just(bytes(size))), (1, st.binary(max_size=size + 2)))


times: SearchStrategy[int] = st.one_of(
    st.integers(NOW_NS - 10**15, NOW_NS + 10**15),
    st.sampled_from([0, 1, MAX_NS, MAX_NS + 1, UINT64_MAX]),
    st.integers(0, UINT64_MAX),
)


@st.composite
def trace_requests(draw: st.DrawFn) -> Any:
    """A random ``ExportTraceServiceRequest`` that protobuf can encode."""
    trace_ids = draw(st.lists(_ids(16), min_size=1, max_size=2))
    span_ids = draw(st.lists(_ids(8), min_size=1, max_size=4))
    spans = []
    for span_id in span_ids:
        start = draw(times)
        one = span(
            draw(st.sampled_from(trace_ids)),
            span_id,
            draw(texts),
            draw(attributes),
            parent=draw(st.one_of(st.just(b""), st.sampled_from(span_ids), _ids(8))),
            start_ns=start,
            duration_ns=0,
            status=draw(st.integers(0, 2)),
            message=draw(texts),
            events=draw(
                st.lists(
                    st.tuples(
                        st.one_of(st.just("exception"), texts),
                        st.dictionaries(
                            st.sampled_from(["exception.type", "exception.message", "x"]),
                            proto_values,
                            max_size=2,
                        ),
                    ),
                    max_size=2,
                )
            ),
        )
        one.end_time_unix_nano = draw(st.one_of(st.just(start), times))
        one.kind = draw(st.sampled_from(SpanProto.SpanKind.values()))
        spans.append(one)
    if draw(st.booleans()):  # the same span twice in one request, its second copy altered
        twin = type(spans[0])()
        twin.CopyFrom(spans[0])
        twin.attributes.append(kv("twin", True))
        spans.append(twin)
    scope = draw(st.one_of(st.sampled_from(["tests", ANTHROPIC_SDK]), texts))
    request = traces(spans, service=draw(texts), scope=scope)
    request.resource_spans[0].resource.attributes.extend(
        kv(k, v) for k, v in draw(st.dictionaries(texts, proto_values, max_size=2)).items()
    )
    return request


EVENT_NAMES = [
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
    "gen_ai.choice",
    "other.event",
]


@st.composite
def log_requests(draw: st.DrawFn) -> Any:
    records = []
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.one_of(structured_messages, proto_values))
        record = log_record(
            draw(_ids(16)),
            draw(_ids(8)),
            draw(st.one_of(st.sampled_from(EVENT_NAMES), texts)),
            body,
        )
        record.time_unix_nano = draw(times)
        record.observed_time_unix_nano = draw(times)
        record.attributes.extend(
            kv(k, v) for k, v in draw(st.dictionaries(texts, proto_values, max_size=2)).items()
        )
        records.append(record)
    return logs(records)


@st.composite
def mutated(draw: st.DrawFn, requests: SearchStrategy[Any]) -> bytes:
    """A valid request's protobuf bytes with bytes flipped, inserted, deleted or cut off."""
    body = bytearray(draw(requests).SerializeToString())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "set", "truncate"]))
        at = draw(st.integers(0, len(body)))
        byte = draw(st.integers(0, 255))
        if op == "insert":
            body.insert(at, byte)
        elif body and op == "truncate":
            del body[at:]
        elif body:
            at = min(at, len(body) - 1)
            if op == "flip":
                body[at] ^= 1 << (byte % 8)
            elif op == "delete":
                del body[at]
            else:
                body[at] = byte
    return bytes(body)


# --- OTLP/JSON, structurally valid with wrong values anywhere ---------------------------------

#: A wrong value where a JSON field is expected: a scalar half of the time, else a tree.
junk = st.one_of(json_scalars, _tree(json_scalars, 4))


def _mostly(valid: SearchStrategy[Any], odds: int = 3) -> SearchStrategy[Any]:
    """``valid`` ``odds`` times out of ``odds + 1``; else any JSON value (shrinks to valid)."""
    return _pick((odds, valid), (1, junk))


def json_hex(size: int) -> SearchStrategy[str]:
    """Hex ids: mostly right; sometimes empty, zero, upper case, spaced, short or not hex."""
    return _pick(
        (8, _ids(size).map(bytes.hex)),
        (1, st.sampled_from(["", "zz" * size, "AB" * size, "00" * size, " 01" * size])),
    )


json_ints = st.one_of(
    st.integers(0, UINT64_MAX).map(str),
    st.integers(-(10**25), 10**25),
    st.sampled_from(["NaN", "-5", "1e3", "", "18446744073709551616", 1.0e19, 3.5]),
)
json_doubles = st.one_of(
    finite_floats,
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "nan", "0x1p3", "", 10**40]),
    st.sampled_from([math.nan, math.inf]),  # bare NaN/Infinity: not JSON, the body is refused
    st.integers(-(10**25), 10**25),
)


def _any_values(children: SearchStrategy[Any]) -> SearchStrategy[Any]:
    pair = _obj({"key": _mostly(texts, 8)}, {"value": children})
    return st.one_of(
        st.fixed_dictionaries({"arrayValue": _mostly(_obj({"values": st.lists(children)}))}),
        st.fixed_dictionaries({"kvlistValue": _mostly(_obj({"values": st.lists(pair)}))}),
    )


json_any_value_leaves = st.one_of(
    # Lone surrogates only here and in span names: anywhere else they mask everything else.
    st.builds(lambda v: {"stringValue": v}, _mostly(st.one_of(texts, wild_texts))),
    st.builds(lambda v: {"intValue": v}, _mostly(json_ints)),
    st.builds(lambda v: {"doubleValue": v}, _mostly(json_doubles)),
    st.builds(lambda v: {"boolValue": v}, _mostly(st.booleans())),
    st.builds(lambda v: {"bytesValue": v}, _mostly(st.sampled_from(["AAEC", "", "!!", "QQ"]))),
    st.sampled_from([{}, None, {"stringValue": "a", "intValue": 1}, {"weirdValue": 1}]),
    junk,
)
json_any_values = st.one_of(
    st.recursive(json_any_value_leaves, _any_values, max_leaves=6),
    st.integers(30, 36).map(lambda n: _nested_any_value(n)),
)


def _nested_any_value(depth: int) -> Any:
    value: Any = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"arrayValue": {"values": [value]}}
    return value


json_attributes = _mostly(
    st.lists(_mostly(_obj({"key": _mostly(texts, 8)}, {"value": json_any_values})), max_size=4),
    8,
)
json_resource = _mostly(_obj({}, {"attributes": json_attributes}), 8)
json_scope = _mostly(_obj({}, {"name": _mostly(texts, 8), "version": _mostly(texts, 8)}), 8)
json_times = _mostly(
    _pick((4, st.integers(NOW_NS - 10**15, NOW_NS + 10**15).map(str)), (1, json_ints)), 8
)
json_spans = _mostly(
    _obj(
        {
            "traceId": _mostly(json_hex(16), 8),
            "spanId": _mostly(json_hex(8), 8),
            "startTimeUnixNano": json_times,
            "endTimeUnixNano": json_times,
        },
        {
            "parentSpanId": _mostly(json_hex(8), 8),
            "name": _mostly(_pick((3, texts), (1, wild_texts))),
            "kind": _mostly(
                st.one_of(st.integers(-3, 9), st.sampled_from(["SPAN_KIND_CLIENT", "CLIENT"]))
            ),
            "attributes": json_attributes,
            "events": _mostly(
                st.lists(
                    _mostly(
                        _obj(
                            {},
                            {
                                "name": _mostly(texts),
                                "timeUnixNano": json_times,
                                "attributes": json_attributes,
                            },
                        )
                    ),
                    max_size=2,
                )
            ),
            "status": _mostly(
                _obj({}, {"code": _mostly(st.integers(0, 2)), "message": _mostly(texts)})
            ),
        },
    ),
    8,
)
json_log_records = _mostly(
    _obj(
        {"timeUnixNano": json_times},
        {
            "traceId": _mostly(json_hex(16), 8),
            "spanId": _mostly(json_hex(8), 8),
            "observedTimeUnixNano": json_times,
            "eventName": _mostly(st.one_of(st.sampled_from(EVENT_NAMES), texts)),
            "attributes": json_attributes,
            "body": json_any_values,
        },
    ),
    8,
)


def _otlp_json(outer: str, middle: str, inner: str, items: SearchStrategy[Any]) -> Any:
    """A request of ``outer`` > ``middle`` > ``inner`` lists, wrong at every level sometimes."""
    scopes = _obj({inner: _mostly(st.lists(items, max_size=3), 8)}, {"scope": json_scope})
    resources = _obj(
        {middle: _mostly(st.lists(_mostly(scopes, 8), max_size=2), 8)},
        {"resource": json_resource},
    )
    return _obj({outer: _mostly(st.lists(_mostly(resources, 8), min_size=1, max_size=2), 8)})


json_trace_values = _otlp_json("resourceSpans", "scopeSpans", "spans", json_spans)
json_log_values = _otlp_json("resourceLogs", "scopeLogs", "logRecords", json_log_records)


@st.composite
def json_bodies(draw: st.DrawFn, values: SearchStrategy[Any]) -> bytes:
    """JSON text of ``values``: ASCII-escaped (lone surrogates as \\udXXX) or raw UTF-8."""
    value = draw(values)
    if draw(st.booleans()):
        return _json_text(value).encode()
    return _json_text(value, ascii_only=False).encode("utf-8", "surrogatepass")


# --- counting what a request carried ----------------------------------------------------------


def _field(obj: Any, camel: str) -> Any:
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj[camel] if camel in obj else obj.get(snake)


def _json_count(body: bytes, outer: str, middle: str, inner: str) -> int:
    """Items (spans or log records) in a JSON request that decoded."""
    try:
        root = orjson.loads(body)
    except orjson.JSONDecodeError:  # bad UTF-8 or a lone surrogate: read past, item by item
        root = json.loads(body.decode("utf-8", "surrogateescape"))
    return sum(
        len(_field(scope, inner) or [])
        for resource in _field(root, outer) or []
        for scope in _field(resource, middle) or []
    )


def _proto_count(body: bytes, signal: str) -> int:
    try:
        return _parsed_count(body, signal)
    except ProtoDecodeError:  # refused whole by upb: decoded item by item, from the wire
        return sum(len(s.items) for r in wire.split_request(body) for s in r.scopes)


def _parsed_count(body: bytes, signal: str) -> int:
    if signal == "traces":
        request: Any = ExportTraceServiceRequest()
        request.ParseFromString(body)
        return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    request = ExportLogsServiceRequest()
    request.ParseFromString(body)
    return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)


def _accounts_for_all(decoded: Decoded, carried: int, signal: str) -> None:
    decoded_items = decoded.spans if signal == "traces" else decoded.logs
    indexes = [r.index for r in decoded.rejected]
    assert len(decoded_items) + len(decoded.rejected) == carried
    assert len(set(indexes)) == len(indexes)
    assert all(0 <= i < carried for i in indexes)
    if signal == "logs":
        assert sorted([log.seq for log in decoded.logs] + indexes) == list(range(carried))


Decoder = Callable[[bytes], Decoded]
DECODERS: dict[tuple[str, str], tuple[Decoder, Callable[[bytes], int]]] = {
    ("traces", "proto"): (decode.decode_traces_proto, lambda b: _proto_count(b, "traces")),
    ("logs", "proto"): (decode.decode_logs_proto, lambda b: _proto_count(b, "logs")),
    ("traces", "json"): (
        decode.decode_traces_json,
        lambda b: _json_count(b, "resourceSpans", "scopeSpans", "spans"),
    ),
    ("logs", "json"): (
        decode.decode_logs_json,
        lambda b: _json_count(b, "resourceLogs", "scopeLogs", "logRecords"),
    ),
}


def _decode(signal: str, encoding: str, body: bytes) -> Decoded | None:
    """Decode; None for a DecodeError. Any other exception fails the property."""
    decoder, count = DECODERS[(signal, encoding)]
    try:
        decoded = decoder(body)
    except decode.DecodeError:
        return None
    _accounts_for_all(decoded, count(body), signal)
    return decoded


# --- pinned inputs: each failed a property below before the source was fixed ----------------

TRACE_ID, SPAN_ID = bytes(range(1, 17)), bytes(range(1, 9))


def _pinned_json(**span_fields: Any) -> bytes:
    one = {"traceId": TRACE_ID.hex(), "spanId": SPAN_ID.hex(), **span_fields}
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [one]}]}]})


#: ``events`` that is not a list: a TypeError escaped decode_traces_json.
EVENTS_NOT_A_LIST = _pinned_json(events=0.5)
#: A scope name that is not a string: BadValue (not DecodeError) escaped decode_traces_json.
SCOPE_NAME_NOT_TEXT = b'{"resourceSpans":[{"scopeSpans":[{"scope":{"name":0}}]}]}'


def _pinned_proto(attrs: dict[str, Any] | None = None, start_ns: int = NOW_NS) -> bytes:
    one = span(TRACE_ID, SPAN_ID, "pinned", attrs or {}, start_ns=start_ns, duration_ns=0)
    body: bytes = traces([one]).SerializeToString()
    return body


#: A protobuf span starting after 2262: decode_traces_proto took it, the insert failed.
TIME_PAST_2262 = _pinned_proto(start_ns=MAX_NS + 1)
#: Two valid counts whose sum is past 2**63-1: total_tokens was their unchecked sum.
TOKENS_OVERFLOW = _pinned_proto(
    {"gen_ai.usage.input_tokens": MAX_COUNT, "gen_ai.usage.output_tokens": 1}
)
#: System instructions (not messages, so not escaped) holding a literal {"@ref": ...}:
#: replay read it as a leaf reference and raised.
SYSTEM_WITH_REF = _pinned_proto(
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.system_instructions": '{"parts":[{"content":{"@ref":"x"}}]}',
    }
)
#: System instructions whose JSON is, byte for byte, how the input message beside them is
#: stored (its long text replaced by {"@ref": <the text's hash>}): they shared one address,
#: and replay gave back the message with the reference in place of its text.
LONG_TEXT = "x" * 300
SYSTEM_AS_STORED_MESSAGE = _pinned_proto(
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.system_instructions": orjson.dumps(
            {
                "role": "user",
                "parts": [{"type": "text", "content": {REF: text_item(LONG_TEXT).hash.hex()}}],
            }
        ).decode(),
        "gen_ai.input.messages": orjson.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": LONG_TEXT}]}]
        ).decode(),
    }
)
#: JSON messages nested deeper than orjson re-encodes (it parsed them): span rejected.
DEEP_MESSAGES = _pinned_proto({"gen_ai.input.messages": "[" * 300 + "]" * 300})
#: A message index of more digits than int() takes: span rejected.
HUGE_INDEX = _pinned_proto({"gen_ai.prompt." + "1" * 5000 + ".role": "user"})


# --- 1. decoding --------------------------------------------------------------------------------


@FAST
@given(body=st.binary(max_size=512), signal=st.sampled_from(["traces", "logs"]))
def test_decode_proto_of_any_bytes(body: bytes, signal: str) -> None:
    _decode(signal, "proto", body)


@FAST
@given(
    data=st.one_of(
        st.tuples(st.just("traces"), mutated(trace_requests())),
        st.tuples(st.just("logs"), mutated(log_requests())),
    )
)
def test_decode_proto_of_mutated_requests(data: tuple[str, bytes]) -> None:
    signal, body = data
    _decode(signal, "proto", body)


#: Arbitrary JSON whose objects often use OTLP's field names, so decoding gets past the root.
otlp_keys = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "resourceLogs",
        "scopeLogs",
        "logRecords",
        "resource",
        "scope",
        "attributes",
        "events",
        "status",
        "traceId",
        "spanId",
        "name",
        "key",
        "value",
        "values",
        "stringValue",
        "intValue",
        "arrayValue",
        "kvlistValue",
        "body",
    ]
)
any_json = st.recursive(
    wild_json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(otlp_keys, json_keys), inner, max_size=4),
    ),
    max_leaves=20,
)


@FAST
@given(
    body=st.one_of(json_bodies(any_json), st.binary(max_size=64)),
    signal=st.sampled_from(["traces", "logs"]),
)
def test_decode_json_of_any_json(body: bytes, signal: str) -> None:
    _decode(signal, "json", body)


@FAST
@example(body=EVENTS_NOT_A_LIST)
@example(body=SCOPE_NAME_NOT_TEXT)
@given(body=json_bodies(json_trace_values))
def test_decode_json_traces_of_otlp_shaped_json(body: bytes) -> None:
    _decode("traces", "json", body)


@FAST
@given(body=json_bodies(json_log_values))
def test_decode_json_logs_of_otlp_shaped_json(body: bytes) -> None:
    _decode("logs", "json", body)


# --- 2. normalizing -----------------------------------------------------------------------------

#: Requests to normalize: mostly valid ones in either encoding (most mutated or hand-made
#: JSON ones do not decode, and only what decodes is normalized).
trace_bodies: SearchStrategy[Body] = _pick(
    (3, st.tuples(st.just("proto"), trace_requests().map(lambda r: r.SerializeToString()))),
    (2, st.tuples(st.just("json"), trace_requests().map(to_json))),
    (1, st.tuples(st.just("proto"), mutated(trace_requests()))),
    (1, st.tuples(st.just("json"), json_bodies(json_trace_values))),
)


def _decoded_traces(body: Body) -> Decoded:
    try:
        decoded = _decode("traces", *body)
    except Exception:  # property 1's business: here only what decoded is of interest
        decoded = None
    assume(decoded is not None)
    assert decoded is not None
    return decoded


def _project() -> str:
    return f"fuzz-{uuid.uuid4().hex[:12]}"


def _hex_id(value: str, size: int) -> bool:
    return len(value) == 2 * size and HEX.fullmatch(value) is not None and set(value) != {"0"}


def _items(span: Span) -> list[ContentItem]:
    """The content items a span refers to: its own, and its input messages'."""
    items = list(span.contents)
    if span.input_group is not None:
        items += [i for message in span.input_group.messages for i in message]
    return items


def _check_content(span: Span) -> None:
    """Every item is addressed by its body; every reference points at an item of the span."""
    known = set()
    for item in _items(span):
        assert item.hash == address(item.body, item.kind)
        known.add(item.hash)
    refs = [span.system_ref, span.tools_ref, span.tool_arguments_ref, span.tool_result_ref]
    refs += [*span.input_refs, *span.output_refs, *span.attribute_refs.values()]
    assert {r for r in refs if r} <= known
    assert len(span.output_finish_reasons) == len(span.output_refs)


def _normalized(body: Body) -> tuple[Decoded, list[Span], int]:
    decoded = _decoded_traces(body)
    batch = normalize_spans(decoded, _project())
    assert len(batch.spans) + len(batch.rejected) == len(decoded.spans) + len(decoded.rejected)
    assert batch.rejected[: len(decoded.rejected)] == decoded.rejected
    return decoded, batch.spans, len(batch.rejected) - len(decoded.rejected)


@FAST
@given(body=trace_bodies)
def test_normalize_spans_never_raises_and_accounts_for_every_span(body: Body) -> None:
    _, spans, _ = _normalized(body)
    for one in spans:
        assert one.kind in KINDS and one.status in ("unset", "ok", "error")
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in one.attributes.items())
        assert all(isinstance(v, str) for v in one.resource.values())
        _check_content(one)


@FAST
@given(body=trace_bodies)
def test_normalized_message_leaves_are_items_of_the_span(body: Body) -> None:
    """Replay expands the leaves of message items (only): each leaf a message item refers to
    is an item of the same span, so it is written with it."""
    _, spans, _ = _normalized(body)
    for one in spans:
        items = _items(one)
        known = {item.hash for item in items}
        for item in items:
            if item.kind == "message":
                assert set(leaf_refs(orjson.loads(item.body))) <= known


@FAST
@example(body=("proto", TIME_PAST_2262))
@given(body=trace_bodies)
def test_normalized_spans_have_valid_ids_and_times(body: Body) -> None:
    _, spans, _ = _normalized(body)
    for one in spans:
        assert _hex_id(one.trace_id, 16) and _hex_id(one.span_id, 8)
        assert one.parent_span_id == "" or (
            len(one.parent_span_id) == 16 and HEX.fullmatch(one.parent_span_id)
        )
        assert 0 <= one.start_ns <= MAX_NS and 0 <= one.end_ns <= MAX_NS


@FAST
@example(body=("proto", TOKENS_OVERFLOW))
@given(body=trace_bodies)
def test_normalized_token_counts_and_cost_are_in_range(body: Body) -> None:
    _, spans, _ = _normalized(body)
    for one in spans:
        for name in TOKEN_FIELDS:
            value = getattr(one, name)
            assert type(value) is int and 0 <= value <= MAX_COUNT, (name, value)
        assert isinstance(one.cost_usd, float) and math.isfinite(one.cost_usd)


@FAST
@example(body=("proto", DEEP_MESSAGES))
@example(body=("proto", HUGE_INDEX))
@given(body=trace_bodies)
def test_normalize_rejects_no_span_for_an_internal_error(body: Body) -> None:
    """Beyond the brief: the catch-all in normalize_spans is a safety net, never the rule."""
    _, _, caught = _normalized(body)
    assert caught == 0


log_bodies: SearchStrategy[Body] = _pick(
    (3, st.tuples(st.just("proto"), log_requests().map(lambda r: r.SerializeToString()))),
    (2, st.tuples(st.just("json"), log_requests().map(to_json))),
    (1, st.tuples(st.just("proto"), mutated(log_requests()))),
    (1, st.tuples(st.just("json"), json_bodies(json_log_values))),
)


@FAST
@given(body=log_bodies)
def test_normalize_logs_never_raises_and_accounts_for_every_record(body: Body) -> None:
    try:
        decoded = _decode("logs", *body)
    except Exception:
        decoded = None
    assume(decoded is not None)
    assert decoded is not None
    batch = normalize_logs(decoded, _project())
    assert len(batch.messages) + len(batch.rejected) == len(decoded.logs) + len(decoded.rejected)
    for message in batch.messages:
        assert message.direction in ("input", "output")
        assert 0 <= message.time_ns <= MAX_NS
        assert message.contents and message.ref == message.contents[0].hash
        assert all(item.hash == address(item.body, item.kind) for item in message.contents)


# --- 3. writing and reading back ----------------------------------------------------------------

writer_bodies: SearchStrategy[Body] = st.one_of(
    st.tuples(st.just("proto"), trace_requests().map(lambda r: r.SerializeToString())),
    st.tuples(st.just("json"), trace_requests().map(to_json)),
)


def _stored(store: Any, project: str) -> tuple[int, int, int]:
    """Span rows, distinct span keys and distinct content hashes stored for ``project``."""
    rows, keys = store.query(
        "SELECT count(), uniqExact(trace_id, span_id) FROM spans WHERE project = {p:String}",
        parameters={"p": project},
    ).result_rows[0]
    (content,) = store.query(
        "SELECT uniqExact(hash) FROM content WHERE project = {p:String}",
        parameters={"p": project},
    ).result_rows[0]
    return int(rows), int(keys), int(content)


def _all_refs_resolve(store: Any, project: str, rows: list[dict[str, Any]]) -> None:
    refs: set[bytes] = set()
    for row in rows:
        for column in ("system_ref", "tools_ref", "tool_arguments_ref", "tool_result_ref"):
            refs.add(row[column])
        refs.update(row["input_refs"])
        refs.update(row["output_refs"])
        refs.update(row["attribute_refs"].values())
    wanted = {r for r in refs if r and r != bytes(16)}
    assert set(queries.content(store, project, wanted)) == wanted


@STORE
@example(body=("proto", TIME_PAST_2262))
@example(body=("proto", SYSTEM_WITH_REF))
@given(body=writer_bodies)
def test_writer_stores_each_span_once_and_reads_back(store: Any, body: Body) -> None:
    project = _project()
    decoded = _decoded_traces(body)
    spans = normalize_spans(decoded, project).spans
    keys = {s.key for s in spans}
    writer = Writer(store)
    first = writer.write(spans, [])
    assert first.spans_written == len(keys)
    rows, stored_keys, content = _stored(store, project)
    assert rows == stored_keys == len(keys)
    read = 0
    for trace_id in sorted({k[1] for k in keys}):
        found = queries.trace_spans(store, project, trace_id)
        read += len(found)
        _all_refs_resolve(store, project, found)
        calls = llm_calls(store, project, trace_id)
        assert calls is not None
        assert len({c.span_id for c in calls}) == len(calls)
    assert read == len(keys)
    # The same batch again, through the same writer and through a new one (a restart).
    for again_writer in (writer, Writer(store)):
        again = again_writer.write(normalize_spans(decoded, project).spans, [])
        assert again.spans_written == 0 and again.duplicates == len(spans)
    assert _stored(store, project) == (rows, stored_keys, content)


def _written_values(span: Span) -> list[tuple[bytes, Any]]:
    """``(ref, value)`` for each reference of ``span`` that replay resolves, with the value
    the span carried: a message with its leaves put back, anything else as encoded."""
    items = _items(span)
    bodies = {item.hash: item.body for item in items}

    def value(ref: bytes, message: bool) -> tuple[bytes, Any]:
        item = next(i for i in items if i.hash == ref and (i.kind == "message") == message)
        parsed = orjson.loads(item.body)
        return ref, expand(parsed, bodies, []) if message else parsed

    out = [value(ref, True) for ref in (*span.input_refs, *span.output_refs)]
    others = (span.system_ref, span.tools_ref, span.tool_arguments_ref, span.tool_result_ref)
    out += [value(ref, False) for ref in (*others, *span.attribute_refs.values()) if ref]
    return out


@STORE_FEW
@example(body=("proto", SYSTEM_AS_STORED_MESSAGE))
@given(body=writer_bodies)
def test_replay_reads_back_the_content_written(store: Any, body: Body) -> None:
    """Beyond the brief: what replay resolves for each stored reference is what the span
    carried (the first copy of a span is the one stored)."""
    project = _project()
    spans = normalize_spans(_decoded_traces(body), project).spans
    Writer(store).write(spans, [])
    for one in {s.key: s for s in reversed(spans)}.values():
        expected = _written_values(one)
        resolved = resolve(store, project, {ref for ref, _ in expected})
        for ref, value in expected:
            assert resolved(ref) == value, ref.hex()
        assert resolved.missing == []


def test_pinned_inputs_are_what_they_say() -> None:
    """The pinned inputs stay meaningful: each is a well-formed request of its kind."""
    assert orjson.loads(EVENTS_NOT_A_LIST)["resourceSpans"]
    for body in (TIME_PAST_2262, TOKENS_OVERFLOW, SYSTEM_WITH_REF, DEEP_MESSAGES, HUGE_INDEX):
        assert _proto_count(body, "traces") == 1
    (one,) = normalize_spans(decode.decode_traces_proto(SYSTEM_AS_STORED_MESSAGE), "p").spans
    # Same bytes, different kinds: the address includes the kind, so they do not collide.
    assert one.system_ref != one.input_refs[0]


# --- 4. limits and the spool ------------------------------------------------------------------


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


@settings(max_examples=60, deadline=None, database=None)
@given(
    body=trace_bodies,
    max_attributes=st.integers(1, 6),
    max_length=st.integers(1, 40),
    past_s=st.integers(1, 10**10),
)
def test_limits_bound_what_every_kept_span_carries(
    body: Body, max_attributes: int, max_length: int, past_s: int
) -> None:
    from agentreel.collector.limits import Limits, enforce, truncation_marker

    decoded = _decoded_traces(body)
    before, rejected_before = len(decoded.spans), len(decoded.rejected)
    limits = Limits(
        max_attributes=max_attributes, max_attribute_length=max_length, max_past_seconds=past_s
    )
    tally = enforce(decoded, limits, NOW_NS)
    assert len(decoded.spans) + len(decoded.rejected) == before + rejected_before
    assert len(decoded.rejected) - rejected_before == tally.out_of_range
    longest = max_length + len(truncation_marker(10**12))
    for one in decoded.spans:
        for attributes in [one.attributes, one.resource.attributes] + [
            e.attributes for e in one.events
        ]:
            assert len(attributes) <= max_attributes + 1
            assert all(len(text) <= longest for text in _strings(attributes))
        assert one.start_ns >= NOW_NS - past_s * 10**9
    # What was kept still normalizes.
    normalize_spans(decoded, _project())


def _spool_record(n: int, body: bytes) -> Any:
    from agentreel.collector.spool import Record

    return Record("traces", "json" if n % 2 else "proto", "gzip" * (n % 2), f"p{n}", n, n, body)


@settings(max_examples=60, deadline=None, database=None)
@given(
    pieces=st.lists(
        st.one_of(st.binary(max_size=64), st.binary(max_size=200).map(lambda b: ("record", b))),
        max_size=8,
    ),
    cut=st.integers(0, 64),
)
def test_the_spool_reads_any_bytes_back_without_raising(pieces: list[Any], cut: int) -> None:
    import tempfile
    from pathlib import Path

    from agentreel.collector.spool import Spool

    written = []
    data = b""
    for n, piece in enumerate(pieces):
        if isinstance(piece, tuple):
            record = _spool_record(n, piece[1])
            written.append(record)
            data += record.encode()
        else:
            data += piece  # garbage between records: torn writes, a damaged disk
    data = data[: len(data) - cut] if cut < len(data) else data
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "000000000001.spool").write_bytes(data)
        spool = Spool(directory, 1 << 20)
        refs = spool.open()
        found = [spool.load(ref) for ref in refs]
        spool.close()
    # Every record read back was written (garbage never passes as a record), and every
    # intact record is found unless the garbage before it happens to look like a header.
    assert all(record in written for record in found)
    intact = [r for r in written if r.encode() in data]
    if not any(isinstance(p, bytes) and b"ARS1" in p for p in pieces):
        assert found == intact
