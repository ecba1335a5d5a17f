"""Redaction at ingestion: rules from the setting, applied to decoded requests before anything
is stored, counted per rule in /metrics, and visible as markers in replay."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentreel.collector.decode import decode_logs_proto, decode_traces_proto
from agentreel.collector.ingest import Ingest
from agentreel.collector.metrics import Metrics
from agentreel.collector.pipeline import Pipeline
from agentreel.collector.redact import RedactionError, from_setting
from agentreel.collector.spool import Record, Spool

from support.liveserver import RunningServer, start_server
from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, traces

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test number
KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2"

RULES = """
patterns = ["email", "api_key"]

[[custom]]
name = "employee_id"
regex = 'EMP-\\d{6}'

[[attribute]]
key = "app.customer.*"
mask = true
name = "customer"

[[attribute]]
key = "gen_ai.tool.call.arguments"
patterns = ["card"]
"""


def _rules(tmp_path: Path, text: str = RULES) -> str:
    path = tmp_path / "redact.toml"
    path.write_text(text)
    return str(path)


def test_setting_forms_and_errors(tmp_path: Path) -> None:
    assert from_setting("") is None
    listed = from_setting("email, card")
    assert listed is not None and listed.rules == ("email", "card")
    from_file = from_setting(_rules(tmp_path))
    assert from_file is not None
    assert from_file.rules == ("email", "api_key", "employee_id", "customer", "card")
    with pytest.raises(RedactionError, match="unknown ready pattern 'emails'"):
        from_setting("emails")
    bad = {
        "nonsense = 1": "unknown key 'nonsense'",
        "patterns = ['ssn']": "unknown ready pattern 'ssn'",
        "[[custom]]\nname = 'x'\nregex = '('": "invalid redaction pattern",
        "[[attribute]]\nkey = 'a'": "needs either mask = true or a list of patterns",
        "patterns = [": "not valid TOML",
    }
    for text, why in bad.items():
        with pytest.raises(RedactionError, match=why):
            from_setting(_rules(tmp_path, text))
    with pytest.raises(RedactionError, match="cannot read"):
        from_setting(str(tmp_path / "missing.toml"))


def test_everything_a_request_carries_is_redacted(tmp_path: Path) -> None:
    redactor = from_setting(_rules(tmp_path))
    assert redactor is not None
    trace, sid = new_trace_id(), new_span_id()
    messages = [{"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL}"}]}]
    request = traces(
        [
            span(
                trace,
                sid,
                "chat",
                {
                    "gen_ai.input.messages": json.dumps(messages),
                    "gen_ai.tool.call.arguments": json.dumps({"card": CARD, "who": "EMP-123456"}),
                    "gen_ai.tool.call.result": f"card {CARD} stays: not a rule here",
                    "app.customer.name": "Jane Doe",
                    "llm.input_messages": [{"content": f"key {KEY}"}],
                    "gen_ai.usage.input_tokens": 12,
                },
                status=2,
                message=f"failed for {EMAIL}",
                events=[("exception", {"exception.message": f"{EMAIL} not found"})],
            )
        ],
        service="svc",
    )
    request.resource_spans[0].resource.attributes.add(key="owner").value.string_value = EMAIL
    decoded = decode_traces_proto(request.SerializeToString())
    counts = redactor.apply(decoded)
    s = decoded.spans[0]
    text = repr((s.attributes, s.status_message, s.events, s.resource.attributes))
    assert EMAIL not in text and KEY not in text and "EMP-123456" not in text
    assert "Jane Doe" not in text
    assert json.loads(s.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == (
        "I am [REDACTED:email]"
    )
    assert json.loads(s.attributes["gen_ai.tool.call.arguments"]) == {
        "card": "[REDACTED:card]",
        "who": "[REDACTED:employee_id]",
    }
    assert CARD in s.attributes["gen_ai.tool.call.result"]  # card applies to arguments only
    assert s.attributes["app.customer.name"] == "[REDACTED:customer]"
    assert s.attributes["gen_ai.usage.input_tokens"] == 12
    assert counts == {"email": 4, "api_key": 1, "employee_id": 1, "card": 1, "customer": 1}

    body = {"content": f"write to {EMAIL}"}
    logged = decode_logs_proto(
        logs([log_record(trace, sid, "gen_ai.user.message", body)]).SerializeToString()
    )
    assert redactor.apply(logged) == {"email": 1}
    assert logged.logs[0].body == {"content": "write to [REDACTED:email]"}


def test_names_and_links_of_an_otlp_json_request_are_redacted() -> None:
    from agentreel.collector.decode import decode_logs_json, decode_traces_json

    from support.otlpbuild import to_json

    redactor = from_setting("api_key,email,card,phone")
    assert redactor is not None
    trace, sid = new_trace_id(), new_span_id()
    request = traces([span(trace, sid, f"chat for {EMAIL}", events=[(f"to {EMAIL}", {})])])
    request.resource_spans[0].scope_spans[0].scope.name = f"scope {EMAIL}"
    link = request.resource_spans[0].scope_spans[0].spans[0].links.add(trace_id=trace, span_id=sid)
    link.attributes.add(key="why").value.string_value = f"asked by {EMAIL}"
    decoded = decode_traces_json(to_json(request))
    assert redactor.apply(decoded) == {"email": 4}
    (one,) = decoded.spans
    assert (one.name, one.scope_name, one.events[0].name) == (
        "chat for [REDACTED:email]",
        "scope [REDACTED:email]",
        "to [REDACTED:email]",
    )
    assert one.links[0]["attributes"] == {"why": "asked by [REDACTED:email]"}
    record = log_record(trace, sid, f"app.note {EMAIL}", {"content": "x"})
    logged = logs([record])
    logged.resource_logs[0].scope_logs[0].scope.name = f"logger {EMAIL}"
    decoded_logs = decode_logs_json(to_json(logged))
    assert redactor.apply(decoded_logs) == {"email": 2}
    assert EMAIL not in repr(decoded_logs.logs)


def test_a_spooled_request_is_redacted_when_read_back(tmp_path: Path) -> None:
    """The spool keeps requests as received; what is stored from it is redacted all the same
    (a request acknowledged before a crash is written after the restart)."""
    redactor = from_setting("email")
    assert redactor is not None
    spool = Spool(tmp_path / "spool", 1 << 30)
    spool.open()
    pipeline = Pipeline(
        lambda spans, messages: None, max_queued_spans=10, batch_spans=10, flush_interval=0.1
    )
    ingest = Ingest(pipeline, Metrics(lambda: 0), "default", 1 << 20, spool)
    ingest.redactor = redactor
    messages = [{"role": "user", "parts": [{"type": "text", "content": f"to {EMAIL}"}]}]
    body = traces(
        [
            span(
                new_trace_id(),
                new_span_id(),
                "chat",
                {"gen_ai.input.messages": json.dumps(messages)},
            )
        ]
    ).SerializeToString()
    ref, durable = spool.append(Record("traces", "proto", "", "p1", time.time_ns(), 1, body))
    durable.result(10)
    batch = ingest.load(ref)
    (stored,) = batch.spans
    items = [item.body for message in stored.input_group.messages for item in message]
    text = repr((stored, items))
    assert EMAIL not in text and b"[REDACTED:email]" in b"".join(items)
    assert stored.project == "p1"
    ingest.shutdown()
    spool.close()


@pytest.fixture(scope="module")
def redacting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("redacting")
    rules = _rules(data)
    server = start_server(data / "data", {"AGENTREEL_REDACT": rules})
    yield server
    server.stop()


def test_stored_runs_show_the_marker_not_the_text(redacting_server: RunningServer) -> None:
    server = redacting_server
    trace, root, call, tool = new_trace_id(), new_span_id(), new_span_id(), new_span_id()
    user = {"role": "user", "parts": [{"type": "text", "content": f"mail {EMAIL}, key {KEY}"}]}
    request = traces(
        [
            span(trace, root, "invoke_agent", {"gen_ai.operation.name": "invoke_agent"}),
            span(
                trace,
                call,
                "chat gpt-4o",
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.input.messages": json.dumps([user]),
                    "gen_ai.output.messages": json.dumps(
                        [{"role": "assistant", "parts": [{"type": "text", "content": EMAIL}]}]
                    ),
                },
                parent=root,
            ),
            span(
                trace,
                tool,
                "execute_tool lookup",
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup",
                    "gen_ai.tool.call.arguments": json.dumps({"card": CARD}),
                    "gen_ai.tool.call.result": f"found {EMAIL}",
                    "app.customer.id": "cust-991",
                },
                parent=root,
            ),
        ]
    )
    answer = httpx.post(
        server.url + "/v1/traces",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    trace_id = trace.hex()
    calls = server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]
    assert len(calls) == 1
    window = json.dumps(calls[0])
    assert "mail [REDACTED:email], key [REDACTED:api_key]" in window
    for readable in (
        json.dumps(server.get(f"/api/v1/runs/{trace_id}")),
        json.dumps(server.get(f"/api/v1/runs/{trace_id}/llm-calls", format="openai")),
        json.dumps(server.get(f"/api/v1/runs/{trace_id}/export")),
        window,
    ):
        for secret in (EMAIL, KEY, CARD, "cust-991"):
            assert secret not in readable
    run = json.dumps(server.get(f"/api/v1/runs/{trace_id}"))
    assert "[REDACTED:card]" in run and "[REDACTED:customer]" in run
    metrics = httpx.get(server.url + "/metrics", timeout=30).text
    counted = _counts(metrics)
    assert counted["email"] >= 3 and counted["api_key"] >= 1
    assert counted["card"] >= 1 and counted["customer"] >= 1


def _counts(metrics: str) -> dict[str, float]:
    out: dict[str, Any] = {}
    for line in metrics.splitlines():
        if line.startswith("agentreel_redactions_total{"):
            rule = line.split('rule="', 1)[1].split('"', 1)[0]
            out[rule] = float(line.rsplit(" ", 1)[1])
    return out


ADDRESS = "alice.smith@example.com"


@pytest.fixture(scope="module")
def ready_rules_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("ready-rules")
    server = start_server(data / "data", {"AGENTREEL_REDACT": "api_key,email,card,phone"})
    yield server
    server.stop()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_names_scopes_events_and_links_are_redacted_end_to_end(
    ready_rules_server: RunningServer, protocol: str
) -> None:
    """A run sent with the real OTLP exporters, the address in its span names, its scope name,
    an event name and a link attribute: what the API answers for it never holds the address."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags

    server = ready_rules_server
    exporter = (
        Grpc(endpoint=server.grpc_endpoint, insecure=True)
        if protocol == "grpc"
        else Http(endpoint=server.url + "/v1/traces")
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "redaction-names"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(f"scope for {ADDRESS}")
    linked = SpanContext(int(new_trace_id().hex(), 16), 7, True, TraceFlags(1))
    with tracer.start_as_current_span(
        f"invoke_agent for {ADDRESS}",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"},
    ) as root:
        with tracer.start_as_current_span(
            f"execute_tool mail {ADDRESS}",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "mail"},
            links=[Link(linked, {"link.reason": f"follow-up of {ADDRESS}"})],
        ) as step:
            step.add_event(f"sent to {ADDRESS}", {"size": 3})
        root.set_status(Status(StatusCode.ERROR, "gave up"))
        trace_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()  # the processor exports each span as it ends: shut down, all sent

    run = server.get(f"/api/v1/runs/{trace_id}")
    names = sorted(s["name"] for s in _tree(run["spans"]))
    assert names == ["execute_tool mail [REDACTED:email]", "invoke_agent for [REDACTED:email]"]
    readable = {
        "run": run,
        "timeline": server.get(f"/api/v1/runs/{trace_id}/timeline"),
        "export": server.get(f"/api/v1/runs/{trace_id}/export"),
        "llm calls": server.get(f"/api/v1/runs/{trace_id}/llm-calls"),
        "run list": server.get("/api/v1/runs", limit=500),
        "daily report": server.get("/api/v1/report/daily"),
    }
    assert any(r["trace_id"] == trace_id for r in readable["run list"]["runs"])
    for what, answer in readable.items():
        text = json.dumps(answer)
        assert ADDRESS not in text and "alice.smith" not in text, what
    exported = json.dumps(readable["export"])
    for marked in (
        "scope for [REDACTED:email]",
        "sent to [REDACTED:email]",
        "follow-up of [REDACTED:email]",
    ):
        assert marked in json.dumps(run) or marked in exported, marked


def _tree(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for node in nodes for n in [node, *_tree(node["children"])]]
