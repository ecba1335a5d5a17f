"""Fuzz a real ``agentreel serve`` over HTTP with schemathesis, against its own OpenAPI document.

1. Every operation but the re-send: never a 5xx; only the statuses the document lists or the
   code answers on purpose (400, 404, 413, 415: see ``DELIBERATE``); JSON where JSON is
   documented; 422 bodies as documented; input the document calls invalid is refused. The
   OTLP/HTTP operations read the raw request, so the document has no body for them; the test
   adds an OTLP/JSON body schema to its copy so that schemathesis has something to send.
2. The re-send, on its own: every base URL the server would accept is rewritten to a closed
   port on 127.0.0.1 before it is sent, and the server runs with every proxy variable pointing
   there too, so nothing it sends can leave the machine. 502 (could not reach) is its answer.
3. OTLP protobuf bodies, mutated byte by byte, plain or compressed: never a 5xx.
4. Injection strings in every query parameter of ``/api/v1/runs`` and in every path id: only
   200, 400, 404 or 422; a string filter matches no run; nothing stored changes.
5. Afterwards the server still answers ``/healthz``, and its log holds no traceback.

``test_the_document_matches_what_the_api_answers`` runs schemathesis's own status and
content-type checks on the exact requests where the document once disagreed with the API
(``DOCUMENT_GAPS``). Three server bugs this file found (500 for a resend base_url httpx cannot
parse, 500 for a non-string OTLP/JSON scope name, ``Allow: GET`` on POST-only
/api/v1/runs/import) were fixed in 3df9c6c; their cases are regression tests now.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import (
    BaseSchema,
    Case,
    CheckContext,
    CheckFunction,
    GenerationMode,
    HookContext,
    Response,
)
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from support.liveserver import RunningServer, free_port, start_server
from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, traces

#: Examples per operation and generation mode; the whole module takes about 20 s.
MAX_EXAMPLES = 30
#: Seconds a single request may take before it counts as a hang.
REQUEST_TIMEOUT = 15.0
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository; failures print their input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

PROTOBUF = {"content-type": "application/x-protobuf"}
OTLP_PATHS = ("/v1/traces", "/v1/logs", "/v1/metrics")
RESEND_PATH = "/api/v1/runs/{trace_id}/llm-calls/{n}/resend"

#: What each operation answers on purpose beyond the statuses its OpenAPI entry lists (read
#: from the routes: a malformed id or filter is 400, an unknown run or call 404, an over-long
#: body 413, an OTLP body of another media type 415).
DELIBERATE: Mapping[str, frozenset[int]] = {
    "/api/v1/runs": frozenset({400}),
    "/api/v1/runs/{trace_id}": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/llm-calls": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/timeline": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/llm-calls/{n}": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/llm-calls/diffs": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/llm-calls/{n}/diff": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/diff": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/export": frozenset({400, 404}),
    "/api/v1/runs/{trace_id}/case": frozenset({400, 404}),
    "/api/v1/runs/import": frozenset({400, 413}),
    "/api/v1/sessions": frozenset({400}),
    "/api/v1/sessions/{session_id}": frozenset({404}),
    "/v1/traces": frozenset({400, 413, 415}),
    "/v1/logs": frozenset({400, 413, 415}),
    "/v1/metrics": frozenset({400, 413, 415}),
    "/api/v1/metrics/genai": frozenset({400}),
    # 502: the endpoint could not be reached (always, here: the port is closed).
    RESEND_PATH: frozenset({400, 404, 502}),
}

#: The pattern ``ResendRequest.base_url`` is validated with: only such URLs are ever sent.
_SENDABLE = re.compile(r"^https?://")


# --- the server and its runs ----------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    server: RunningServer
    #: An agent run: two OpenAI chat calls with captured messages, a tool call, an error.
    agent_run: str
    #: A run with one Anthropic call.
    anthropic_run: str
    #: A run of one span and no LLM call.
    plain_run: str
    #: ``http://127.0.0.1:<port>`` where nothing listens: the only place a re-send may go.
    closed_url: str


def _messages(*turns: tuple[str, str]) -> str:
    return json.dumps([{"role": r, "parts": [{"type": "text", "content": c}]} for r, c in turns])


def _chat(trace: bytes, parent: bytes, provider: str, model: str, *turns: tuple[str, str]) -> Any:
    return span(
        trace,
        new_span_id(),
        f"chat {model}",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": 12 * len(turns),
            "gen_ai.usage.output_tokens": 7,
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
            "gen_ai.input.messages": _messages(*turns),
            "gen_ai.output.messages": _messages(("assistant", "ok")),
        },
        parent=parent,
    )


def _post_spans(server: RunningServer, spans: list[Any], service: str) -> str:
    response = httpx.post(
        server.url + "/v1/traces",
        content=traces(spans, service=service).SerializeToString(),
        headers=PROTOBUF,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return bytes(spans[0].trace_id).hex()


def _seed(server: RunningServer) -> tuple[str, str, str]:
    trace, root = new_trace_id(), new_span_id()
    agent = [
        span(
            trace,
            root,
            "invoke_agent fuzzer",
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "fuzzer",
                "gen_ai.conversation.id": "session-fuzz",
                "user.id": "user-fuzz",
            },
        ),
        _chat(trace, root, "openai", "gpt-4o", ("user", "What is 2+2?")),
        span(
            trace,
            new_span_id(),
            "execute_tool add",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "add",
                "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.call.arguments": '{"a": 2, "b": 2}',
                "gen_ai.tool.call.result": "4",
            },
            parent=root,
            status=2,
            message="tool failed once",
        ),
        _chat(trace, root, "openai", "gpt-4o", ("user", "What is 2+2?"), ("assistant", "4")),
    ]
    anthropic_trace = new_trace_id()
    anthropic = [_chat(anthropic_trace, b"", "anthropic", "claude-sonnet-4", ("user", "Hi"))]
    plain = [span(new_trace_id(), new_span_id(), "job", {"gen_ai.agent.name": "plain"})]
    return (
        _post_spans(server, agent, "fuzz-agent"),
        _post_spans(server, anthropic, "fuzz-anthropic"),
        _post_spans(server, plain, "fuzz-plain"),
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    closed_url = f"http://127.0.0.1:{free_port()}"
    # A second fence for the re-send: whatever URL it is given, httpx in the server goes
    # through this "proxy", where nothing listens (and a proxied host is not looked up).
    proxies = {
        name: closed_url
        for base in ("http_proxy", "https_proxy", "all_proxy")
        for name in (base, base.upper())
    }
    proxies |= {"no_proxy": "", "NO_PROXY": ""}
    server = start_server(tmp_path_factory.mktemp("fuzz-api") / "data", proxies)
    try:
        agent_run, anthropic_run, plain_run = _seed(server)
        yield Seeded(server, agent_run, anthropic_run, plain_run, closed_url)
    finally:
        alive = server.process.poll() is None
        server.stop()
    assert alive, f"the server died during the fuzz run:\n{server.log()}"


def _stored(server: RunningServer) -> tuple[int, int]:
    stats = server.get("/api/v1/stats")
    return int(stats["spans"]), int(stats["runs"])


# --- schemathesis: the schema, its hooks, the checks ----------------------------------------

_ANY_VALUE: dict[str, Any] = {
    "type": "object",
    "maxProperties": 1,
    "properties": {
        "stringValue": {"type": "string"},
        "intValue": {"type": "string", "pattern": "^-?[0-9]{1,19}$"},
        "doubleValue": {"type": "number"},
        "boolValue": {"type": "boolean"},
        "bytesValue": {"type": "string", "pattern": "^[A-Za-z0-9+/]{0,8}={0,2}$"},
    },
}
_ATTRIBUTES: dict[str, Any] = {
    "type": "array",
    "maxItems": 4,
    "items": {
        "type": "object",
        "required": ["key", "value"],
        "properties": {
            "key": {
                "anyOf": [
                    {
                        "enum": [
                            "gen_ai.operation.name",
                            "gen_ai.provider.name",
                            "gen_ai.input.messages",
                            "gen_ai.output.messages",
                            "gen_ai.usage.input_tokens",
                            "gen_ai.tool.call.arguments",
                            "openinference.span.kind",
                            "llm.input_messages.0.message.content",
                        ]
                    },
                    {"type": "string"},
                ]
            },
            "value": _ANY_VALUE,
        },
    },
}
_NANOS = {"type": "string", "pattern": "^[0-9]{1,19}$"}
_SCOPE = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
}
_RESOURCE = {"type": "object", "properties": {"attributes": _ATTRIBUTES}}


def _otlp_body(resources: str, scopes: str, items: str, item: dict[str, Any]) -> dict[str, Any]:
    scope_items = {
        "type": "object",
        "properties": {"scope": _SCOPE, items: {"type": "array", "maxItems": 3, "items": item}},
    }
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        resources: {
                            "type": "array",
                            "maxItems": 2,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "resource": _RESOURCE,
                                    scopes: {"type": "array", "maxItems": 2, "items": scope_items},
                                },
                            },
                        }
                    },
                }
            }
        },
    }


_OTLP_SPAN = {
    "type": "object",
    "required": ["traceId", "spanId"],
    "properties": {
        "traceId": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "spanId": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "parentSpanId": {"type": "string", "pattern": "^([0-9a-f]{16})?$"},
        "name": {"type": "string"},
        "kind": {"type": "integer", "minimum": 0, "maximum": 5},
        "startTimeUnixNano": _NANOS,
        "endTimeUnixNano": _NANOS,
        "attributes": _ATTRIBUTES,
        "status": {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "minimum": 0, "maximum": 2},
                "message": {"type": "string"},
            },
        },
    },
}
_OTLP_LOG = {
    "type": "object",
    "properties": {
        "timeUnixNano": _NANOS,
        "traceId": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "spanId": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "eventName": {"type": "string"},
        "body": _ANY_VALUE,
        "attributes": _ATTRIBUTES,
    },
}


_HISTOGRAM_POINT = {
    "type": "object",
    "properties": {
        "startTimeUnixNano": _NANOS,
        "timeUnixNano": _NANOS,
        "count": _NANOS,
        "sum": {"type": "number"},
        "bucketCounts": {"type": "array", "maxItems": 4, "items": _NANOS},
        "explicitBounds": {"type": "array", "maxItems": 3, "items": {"type": "number"}},
        "attributes": _ATTRIBUTES,
    },
}
_OTLP_METRIC = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "enum": ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "x"],
        },
        "histogram": {
            "type": "object",
            "properties": {
                "aggregationTemporality": {"type": "integer", "minimum": 0, "maximum": 2},
                "dataPoints": {"type": "array", "maxItems": 3, "items": _HISTOGRAM_POINT},
            },
        },
    },
}


def _with_otlp_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """The server's document, with a request body for the two OTLP/HTTP operations (they read
    the raw request, so FastAPI documents none)."""
    paths = document["paths"]
    paths["/v1/traces"]["post"]["requestBody"] = _otlp_body(
        "resourceSpans", "scopeSpans", "spans", _OTLP_SPAN
    )
    paths["/v1/logs"]["post"]["requestBody"] = _otlp_body(
        "resourceLogs", "scopeLogs", "logRecords", _OTLP_LOG
    )
    paths["/v1/metrics"]["post"]["requestBody"] = _otlp_body(
        "resourceMetrics", "scopeMetrics", "metrics", _OTLP_METRIC
    )
    return document


def _pick(value: object, count: int) -> int:
    """A choice among ``count`` made from the generated value, so that Hypothesis can shrink."""
    return zlib.crc32(repr(value).encode("utf-8", "surrogatepass")) % count


def _seeded_ids(schema: BaseSchema, seeded: Seeded) -> None:
    """Point most generated ids at the stored runs (random strings never name one), so that the
    fuzz reaches the code behind the id check; keep some as generated."""
    agent, anthropic, plain = seeded.agent_run, seeded.anthropic_run, seeded.plain_run
    choices = (None, agent, agent, anthropic, plain, "0" * 32)

    @schema.hook
    def map_path_parameters(context: HookContext, path_parameters: Any) -> Any:
        if not isinstance(path_parameters, dict):
            return path_parameters
        trace_id = path_parameters.get("trace_id")
        chosen = choices[_pick(trace_id, len(choices))]
        if chosen is not None:
            path_parameters["trace_id"] = chosen
        n = path_parameters.get("n")
        if isinstance(n, int) and not isinstance(n, bool) and _pick(n, 4):
            path_parameters["n"] = n % 3  # 0 to 2: calls 1 and 2 exist in the agent run
        return path_parameters

    @schema.hook
    def map_query(context: HookContext, query: Any) -> Any:
        if not isinstance(query, dict):
            return query
        against = query.get("against")
        chosen = choices[_pick(against, len(choices))]
        if isinstance(against, str) and chosen is not None:
            query["against"] = chosen
        return query


def answers_on_purpose(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The status is one the operation documents or answers on purpose (``DELIBERATE``)."""
    status = response.status_code
    documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
    allowed = documented | DELIBERATE.get(case.operation.path, frozenset())
    if status not in allowed:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {status}, not one of "
            f"{sorted(allowed)}: {response.text[:300]}"
        )
    return None


def documented_content_type(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """``content_type_conformance``, but for ``/metrics`` (Prometheus text, documented as JSON:
    pinned in ``test_the_document_matches_what_the_api_answers``)."""
    if case.operation.path == "/metrics":
        return None
    return content_type_conformance(ctx, response, case)


def rejects_invalid_input(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """``negative_data_rejection``, but for OTLP: per the OTLP spec a request with invalid spans
    is accepted (200) and names them in ``partial_success``."""
    if case.operation.path in OTLP_PATHS:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    answers_on_purpose,
    documented_content_type,
    response_schema_conformance,
    rejects_invalid_input,
]

#: Every operation of the document, and whether it has input to make invalid.
OPERATIONS: tuple[tuple[str, str, bool], ...] = (
    ("GET", "/", False),
    ("GET", "/healthz", False),
    ("GET", "/metrics", False),
    ("GET", "/api/v1/stats", False),
    ("GET", "/api/v1/runs", True),
    ("GET", "/api/v1/runs/{trace_id}", False),
    ("GET", "/api/v1/runs/{trace_id}/llm-calls", True),
    ("GET", "/api/v1/runs/{trace_id}/timeline", False),
    ("GET", "/api/v1/runs/{trace_id}/llm-calls/{n}", True),
    ("GET", "/api/v1/runs/{trace_id}/llm-calls/diffs", False),
    ("GET", "/api/v1/runs/{trace_id}/llm-calls/{n}/diff", True),
    ("GET", "/api/v1/runs/{trace_id}/diff", True),
    ("GET", "/api/v1/runs/{trace_id}/export", False),
    ("GET", "/api/v1/runs/{trace_id}/case", True),
    ("POST", "/api/v1/runs/import", True),
    ("GET", "/api/v1/sessions", True),
    ("GET", "/api/v1/sessions/{session_id}", True),
    ("POST", "/v1/traces", True),
    ("POST", "/v1/logs", True),
    ("POST", "/v1/metrics", True),
    ("GET", "/api/v1/metrics/genai", True),
    ("POST", RESEND_PATH, True),
    ("POST", "/api/v1/scores", False),
    ("GET", "/api/v1/runs/{trace_id}/scores", False),
    ("POST", "/api/v1/eval", True),
    ("GET", "/api/v1/quality/daily", True),
    ("GET", "/api/v1/drift", True),
    ("GET", "/api/v1/report/daily", True),
    ("GET", "/api/v1/alerts", False),
    ("POST", "/api/v1/alerts", False),
    ("DELETE", "/api/v1/alerts/{name}", False),
    ("POST", "/api/v1/alerts/check", False),
    ("GET", "/api/v1/alerts/history", True),
    ("GET", "/api/v1/facets", True),
    ("GET", "/api/v1/overview", True),
    ("GET", "/api/v1/cost/daily", True),
    ("GET", "/api/v1/budgets", False),
    ("GET", "/api/v1/failures/daily", True),
    ("GET", "/api/v1/failures/by", True),
    ("GET", "/api/v1/steps/histogram", True),
    ("GET", "/api/v1/escalations", True),
    ("GET", "/api/v1/routing", True),
    ("GET", "/api/v1/prices/unknown", True),
    ("GET", "/api/v1/prices", False),
    ("GET", "/api/v1/prices/overrides", False),
    ("PUT", "/api/v1/prices/overrides", True),
    ("POST", "/api/v1/prices/reprice", True),
    ("GET", "/api/v1/retention", False),
    ("PUT", "/api/v1/retention", True),
)


def _cases(resend: bool) -> list[Any]:
    return [
        pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
        for method, path, negatable in OPERATIONS
        if (path == RESEND_PATH) == resend
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if negatable or mode is GenerationMode.POSITIVE
    ]


@pytest.fixture(scope="module")
def api_schema(seeded: Seeded) -> BaseSchema:
    document = httpx.get(seeded.server.url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(_with_otlp_bodies(document))
    schema.config.update(base_url=seeded.server.url, request_timeout=REQUEST_TIMEOUT)
    _seeded_ids(schema, seeded)
    return schema


def test_every_operation_of_the_document_is_fuzzed(api_schema: BaseSchema) -> None:
    paths: dict[str, dict[str, Any]] = api_schema.raw_schema["paths"]
    listed = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert listed == {(method, path) for method, path, _ in OPERATIONS}


# schemathesis.pytest.from_fixture(...).parametrize() would load the schema from a fixture,
# but 4.32 sets ``request.node._nodeid``, which pytest 9.2 no longer has (AttributeError):
# the test runs each operation's strategy itself, one pytest case per operation and mode.
@pytest.mark.parametrize(("method", "path", "mode"), _cases(resend=False))
def test_every_operation_answers_as_documented(
    api_schema: BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    @FUZZ
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    def fuzz(case: Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT)

    fuzz()


def _to_closed_port(body: Any, closed_url: str) -> Any:
    """Any base URL the server would accept becomes one on the closed port, the generated text
    kept as its path (the host is fixed by the first ``/`` after the port)."""
    url = body.get("base_url") if isinstance(body, dict) else None
    if isinstance(url, str) and _SENDABLE.match(url):
        body["base_url"] = f"{closed_url}/{url}"
    return body


def _unreachable(closed_url: str) -> Any:
    """``not_a_server_error``, but for the 502 that says the closed port could not be reached:
    the only answer a re-send can get here."""

    def no_server_error_but_unreachable(
        ctx: CheckContext, response: Response, case: Case[Any]
    ) -> bool | None:
        if response.status_code == 502:
            detail = response.json()["detail"]
            assert detail.startswith(
                f"re-send failed, nothing stored: could not reach {closed_url}/"
            )
            return None
        return not_a_server_error(ctx, response, case)

    return no_server_error_but_unreachable


@pytest.mark.parametrize(("method", "path", "mode"), _cases(resend=True))
def test_resend_answers_as_documented_and_sends_nowhere(
    api_schema: BaseSchema, seeded: Seeded, method: str, path: str, mode: GenerationMode
) -> None:
    checks = [_unreachable(seeded.closed_url), *CHECKS[1:]]

    @FUZZ
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    def fuzz(case: Case[Any]) -> None:
        body: Any = _to_closed_port(case.body, seeded.closed_url)
        case.body = body
        url = body.get("base_url") if isinstance(body, dict) else None
        if isinstance(url, str) and _SENDABLE.match(url):
            assert url.startswith(seeded.closed_url + "/"), url
        case.call_and_validate(checks=checks, timeout=REQUEST_TIMEOUT)

    fuzz()


# --- OTLP protobuf ---------------------------------------------------------------------------


def _valid_protobuf() -> dict[str, bytes]:
    trace, root = new_trace_id(), new_span_id()
    spans = [
        span(trace, root, "invoke_agent proto", {"gen_ai.agent.name": "proto"}),
        _chat(trace, root, "openai", "gpt-4o", ("user", "hello")),
    ]
    record = log_record(trace, root, "gen_ai.user.message", {"content": "hello"})
    return {
        "traces": traces(spans, service="fuzz-proto").SerializeToString(),
        "logs": logs([record], service="fuzz-proto").SerializeToString(),
    }


_PROTOBUF = _valid_protobuf()
_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["set", "insert", "delete", "cut"]),
        st.integers(0, 2**16),
        st.integers(0, 255),
    ),
    max_size=4,
)


def _mutated(signal: str, edits: list[tuple[str, int, int]]) -> bytes:
    body = bytearray(_PROTOBUF[signal])
    for op, position, byte in edits:
        at = position % (len(body) + 1)
        if op == "set" and at < len(body):
            body[at] = byte
        elif op == "insert":
            body.insert(at, byte)
        elif op == "delete" and at < len(body):
            del body[at]
        elif op == "cut":
            del body[at:]
    return bytes(body)


_GRPC_METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


@FUZZ
@given(signal=st.sampled_from(["traces", "logs"]), edits=_EDITS)
def test_otlp_grpc_mutations_never_break_the_receiver(
    seeded: Seeded, signal: str, edits: list[tuple[str, int, int]]
) -> None:
    """The gRPC receiver answers OK, INVALID_ARGUMENT or RESOURCE_EXHAUSTED to any bytes:
    never UNKNOWN or INTERNAL (an exception escaping the handler)."""
    import grpc

    with grpc.insecure_channel(seeded.server.grpc_endpoint) as channel:
        export = channel.unary_unary(
            _GRPC_METHODS[signal], request_serializer=None, response_deserializer=None
        )
        try:
            export(_mutated(signal, edits), timeout=REQUEST_TIMEOUT)
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            assert code in (
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
            ), (code, error.details())  # type: ignore[attr-defined]


@FUZZ
@given(
    signal=st.sampled_from(["traces", "logs"]),
    edits=_EDITS,
    encoding=st.sampled_from(["", "gzip", "deflate", "br"]),
)
def test_otlp_protobuf_mutations_never_break_the_receiver(
    seeded: Seeded, signal: str, edits: list[tuple[str, int, int]], encoding: str
) -> None:
    headers = dict(PROTOBUF)
    content = _mutated(signal, edits)
    if encoding == "gzip":
        content, headers["content-encoding"] = gzip.compress(content), "gzip"
    elif encoding == "deflate":
        content, headers["content-encoding"] = zlib.compress(content), "deflate"
    elif encoding:
        headers["content-encoding"] = encoding  # not compressed: the server must say so
    response = httpx.post(
        f"{seeded.server.url}/v1/{signal}",
        content=content,
        headers=headers,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)


# --- injection strings -----------------------------------------------------------------------

INJECTIONS = {
    "sql-or": "' OR 1=1 --",
    "sql-drop": "`; DROP TABLE spans",
    "sql-union": "x' UNION ALL SELECT * FROM spans --",
    "sql-escape": "\\' OR ''='",
    "clickhouse-parameter": "{project:String}",
    "nul": "\u0000",
    "control": "a\r\nX-Injected: 1\t\x7f",
    "percent": "%00%27%2F",
    "traversal": "../../healthz",
    "unicode": "ℌ𝔢𝔩𝔩𝔬 \u202e\u200b ﷽ 🧨 ñ İ",
    "long": "A" * 60_000,
    "long-sql": "' OR 1=1 -- " * 2_000,
}
RUN_QUERY = (
    "start_from",
    "start_to",
    "service",
    "agent",
    "status",
    "session",
    "user",
    "sort",
    "order",
    "limit",
    "offset",
)
STRING_FILTERS = ("service", "agent", "session", "user")
HARMLESS = (200, 400, 404, 422)


@pytest.mark.parametrize("payload", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_injection_strings_change_nothing(seeded: Seeded, payload: str) -> None:
    server, run = seeded.server, seeded.agent_run
    before = _stored(server)
    as_path = quote(payload, safe="")
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/api/v1/runs", {name: payload}) for name in RUN_QUERY
    ]
    suffixes = ("", "/llm-calls", "/llm-calls/1", "/llm-calls/diffs", "/timeline", "/export",
                "/case", "/llm-calls/1/diff")  # fmt: skip
    for suffix in suffixes:
        requests.append(("GET", f"/api/v1/runs/{as_path}{suffix}", {}))
    requests += [
        ("GET", f"/api/v1/runs/{as_path}/diff", {"against": run}),
        ("GET", f"/api/v1/runs/{run}/diff", {"against": payload}),
        ("GET", f"/api/v1/runs/{run}/llm-calls", {"format": payload}),
        ("GET", f"/api/v1/runs/{run}/case", {"name": payload}),
        ("GET", f"/api/v1/runs/{run}/case", {"command": payload}),
        ("GET", f"/api/v1/runs/{run}/llm-calls/{as_path}/diff", {}),
        ("POST", f"/api/v1/runs/{as_path}/llm-calls/1/resend", {}),
        ("POST", f"/api/v1/runs/{run}/llm-calls/{as_path}/resend", {}),
    ]
    with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client:
        for method, path, params in requests:
            body = {"base_url": seeded.closed_url} if method == "POST" else None
            response = client.request(method, path, params=params, json=body)
            where = f"{method} {path[:80]} {str(params)[:80]}"
            assert response.status_code in HARMLESS, (where, response.status_code, response.text)
            response.json()
            name = next(iter(params), "")
            if path == "/api/v1/runs" and name in STRING_FILTERS:
                assert response.status_code == 200, (where, response.text)
                assert response.json()["total"] == 0, (where, "an injection string matched")
    assert _stored(server) == before


# --- found here, fixed in 3df9c6c ----------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    ["CLOSED/\u0000", "CLOSED/\u007f", "CLOSED/a\tb", "CLOSED/" + "a" * 70_000, "http://[::1"],
    ids=["nul", "del", "tab", "over-64-kib", "unclosed-ipv6"],
)
def test_resend_to_an_unparseable_base_url_is_refused(seeded: Seeded, base_url: str) -> None:
    """Was 500 (httpx.InvalidURL escaped resend_call); found by the re-send fuzzer. httpx
    refuses each of these before it opens a connection."""
    base_url = base_url.replace("CLOSED", seeded.closed_url, 1)
    response = httpx.post(
        f"{seeded.server.url}/api/v1/runs/{seeded.agent_run}/llm-calls/1/resend",
        json={"base_url": base_url},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.json()["detail"].startswith("base_url is not a usable URL")


_LOG_RECORD = {"timeUnixNano": "1763700000000000000", "eventName": "gen_ai.user.message"}


@pytest.mark.parametrize(
    ("signal", "body", "field"),
    [
        ("traces", {"resourceSpans": [{"scopeSpans": [{"scope": {"name": 1}}]}]}, "name"),
        ("traces", {"resourceSpans": [{"scopeSpans": [{"scope": {"version": []}}]}]}, "version"),
        (
            "logs",
            {
                "resourceLogs": [
                    {"scopeLogs": [{"scope": {"name": {}}, "logRecords": [_LOG_RECORD]}]}
                ]
            },
            "name",
        ),
    ],
    ids=["traces-name", "traces-version", "logs-name"],
)
def test_otlp_json_with_a_non_string_scope_name_is_refused(
    seeded: Seeded, signal: str, body: dict[str, Any], field: str
) -> None:
    """Was 500 for traces (BadValue escaped decode_traces_json); found by fuzzing OTLP/JSON."""
    response = httpx.post(f"{seeded.server.url}/v1/{signal}", json=body, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.json()["message"].endswith(f".scope.{field} must be a string")


def test_a_405_names_the_method_the_resource_takes(seeded: Seeded) -> None:
    """Was ``Allow: GET``: /api/v1/runs/{trace_id} matched first; found by schemathesis's
    allow_header_conformance (ST205)."""
    response = httpx.options(f"{seeded.server.url}/api/v1/runs/import", timeout=REQUEST_TIMEOUT)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


# --- the document says what the API answers -----------------------------------------------------
# Each case was once a gap between the OpenAPI document and the API (``what`` says which); the
# document now declares these answers, and these requests keep it that way.


def _gap(
    method: str, path: str, data: dict[str, Any], check: CheckFunction, what: str, name: str
) -> Any:
    return pytest.param(method, path, data, check, id=name)


DOCUMENT_GAPS = [
    _gap(
        "GET",
        "/api/v1/runs/{trace_id}",
        {"path_parameters": {"trace_id": "0"}},
        status_code_conformance,
        "400 was not documented (200, 422), and trace_id has no pattern (^[0-9a-fA-F]{32}$) "
        "in the document; the same for every /api/v1/runs/{trace_id}/... operation",
        "400-malformed-trace-id",
    ),
    _gap(
        "GET",
        "/api/v1/runs/{trace_id}",
        {"path_parameters": {"trace_id": "0" * 32}},
        status_code_conformance,
        "404 (no such run) was not documented (200, 422)",
        "404-unknown-run",
    ),
    _gap(
        "GET",
        "/api/v1/runs",
        {"query": {"sort": "nonsense"}},
        status_code_conformance,
        "400 was not documented (200, 422); sort is a free string in the document, not an enum",
        "400-bad-sort",
    ),
    _gap(
        "POST",
        "/api/v1/runs/import",
        {"body": {}, "media_type": "application/json"},
        status_code_conformance,
        "400 (not an export document) was not documented (200)",
        "400-import",
    ),
    _gap(
        "POST",
        "/v1/traces",
        {},
        status_code_conformance,
        "415 (no content type) was not documented (200); nor are 400, 413, 429, 503, nor the "
        "two request media types (application/x-protobuf, application/json)",
        "415-otlp",
    ),
    _gap(
        "GET",
        "/metrics",
        {},
        content_type_conformance,
        "answers text/plain; version=1.0.0 (Prometheus) but is documented as application/json",
        "metrics-content-type",
    ),
]


@pytest.mark.parametrize(("method", "path", "data", "check"), DOCUMENT_GAPS)
def test_the_document_matches_what_the_api_answers(
    api_schema: BaseSchema, method: str, path: str, data: dict[str, Any], check: CheckFunction
) -> None:
    case = api_schema[path][method].Case(**data)
    case.call_and_validate(checks=[check], timeout=REQUEST_TIMEOUT)


def test_the_server_still_answers_after_the_fuzzing(seeded: Seeded) -> None:
    server = seeded.server
    assert server.process.poll() is None, server.log()
    health = httpx.get(server.url + "/healthz", timeout=REQUEST_TIMEOUT)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    run = server.get(f"/api/v1/runs/{seeded.agent_run}")["run"]
    assert run["llm_calls"] == 2 and run["agent"] == "fuzzer"
    assert "Traceback" not in server.log(), server.log()[-5000:]
