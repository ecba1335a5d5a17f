"""The SDK never breaks the agent: a collector that is not there or dies mid-run, an exporter
that raises, a full queue, bad arguments. Also what leaves the process: redaction before
export, content capture turned off, and export over gRPC."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from agentreel import sdk

from support.fakeprovider import FakeProvider
from support.liveserver import RunningServer, free_port
from support.sdkrun import connect, openai_client, stored_spans, support_agent


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    made = TracerProvider()
    yield made
    sdk.shutdown()
    made.shutdown()


def run_example(**limits: Any) -> sdk.run:
    with FakeProvider(support_agent.SCRIPT) as fake, openai_client(fake) as client:
        done = support_agent.answer(client, support_agent.QUESTION, **limits)
        assert len(fake.exchanges) == 3
    return done


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_with_no_collector_listening_the_agent_completes(scheme: str) -> None:
    made = connect(f"{scheme}://127.0.0.1:{free_port()}")
    try:
        done = run_example(budget_usd=1.0)
        assert done.steps == 6 and done.llm_calls == 3
        assert not sdk.force_flush(30)  # nothing could be sent, and the SDK says so
        assert sdk.stats()["failed_spans"] >= 8
    finally:
        sdk.shutdown()  # flushes against a dead endpoint: bounded, and quiet
        made.shutdown()


def test_a_collector_killed_mid_run_does_not_stop_the_agent(fresh_server: RunningServer) -> None:
    made = connect(fresh_server.url)
    try:
        first = run_example()
        assert len(stored_spans(fresh_server, first.trace_id)) == 8

        def lookup_and_kill(order_id: str) -> dict[str, Any]:
            fresh_server.stop(signal.SIGKILL)
            return {"order_id": order_id, "total": 149.0, "status": "delivered"}

        original = support_agent.TOOL_FUNCTIONS["lookup_order"]
        support_agent.TOOL_FUNCTIONS["lookup_order"] = sdk.tool(name="lookup_order")(
            lookup_and_kill
        )
        try:
            second = run_example()
        finally:
            support_agent.TOOL_FUNCTIONS["lookup_order"] = original
        assert second.steps == 6 and fresh_server.process.poll() is not None
        assert not sdk.force_flush(30)
        assert sdk.stats()["failed_spans"] >= 1
    finally:
        sdk.shutdown()
        made.shutdown()


class BrokenExporter(SpanExporter):
    """Fault injection: every export raises."""

    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        raise ConnectionResetError("collector went away")


def test_an_exporter_that_raises_is_logged_once_and_counted(
    provider: TracerProvider, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agentreel.sdk._errors.RAISE_ERRORS", False)
    broken = BrokenExporter()
    sdk.init(exporter=broken, tracer_provider=provider)
    with caplog.at_level(logging.WARNING, logger="agentreel.sdk"):
        for _ in range(3):
            run_example()
            sdk.force_flush(5)
    assert broken.calls >= 3
    assert sdk.stats()["failed_spans"] == 3 * 8
    messages = [r.getMessage() for r in caplog.records if r.name == "agentreel.sdk"]
    assert sum("could not be sent" in m for m in messages) == 1, messages


class StuckExporter(SpanExporter):
    """A collector that does not answer until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def test_a_stuck_collector_bounds_the_queue_and_counts_drops(
    provider: TracerProvider, caplog: pytest.LogCaptureFixture
) -> None:
    stuck = StuckExporter()
    sdk.init(exporter=stuck, tracer_provider=provider, max_queue_size=16)
    tool = sdk.tool(name="noop")(lambda: None)
    with caplog.at_level(logging.WARNING, logger="agentreel.sdk"), sdk.run("busy"):
        for _ in range(2000):
            tool()
    dropped = sdk.stats()["dropped_spans"]
    stuck.release.set()
    sdk.force_flush(30)
    # One batch (16) was taken by the stuck export, the queue held 16: the rest dropped.
    assert 2001 - 2 * 16 <= dropped < 2001
    assert stuck.exported + dropped == 2001
    full = [r for r in caplog.records if "queue is full" in r.getMessage()]
    assert len(full) == 1


def test_bad_arguments_are_logged_not_raised_outside_tests(
    provider: TracerProvider, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    sdk.init(exporter=memory, tracer_provider=provider)
    with pytest.raises(TypeError, match="options must be a list"):
        sdk.decision("route", options=5, chosen="a")  # type: ignore[arg-type]
    monkeypatch.setattr("agentreel.sdk._errors.RAISE_ERRORS", False)
    with caplog.at_level(logging.WARNING, logger="agentreel.sdk"):
        with sdk.run("x", budget_usd=-1) as run:  # a bad limit is ignored, not fatal
            sdk.decision("route", options=5, chosen="a")  # type: ignore[arg-type]
            sdk.decision("route", options=5, chosen="a")  # type: ignore[arg-type]
            sdk.score("quality", value=float("nan"))
            sdk.escalate("stuck", severity="panic")
            sdk.feedback(("not-hex", "zz"), value=1)
        assert run.state is not None and run.state.budget_usd is None
    sdk.force_flush(5)
    warnings = [r.getMessage() for r in caplog.records if r.name == "agentreel.sdk"]
    # Once per place and kind: the second bad decision and the second ValueError in score
    # (bad ids after a NaN value) are not logged again.
    assert len(warnings) == 4, warnings
    assert [s.name for s in memory.get_finished_spans()] == ["invoke_agent x"]


def test_secrets_are_redacted_before_export_and_counted(server: RunningServer) -> None:
    made = connect(server.url, redact=["api_key", "email", ("ticket", r"TICKET-\d+")])
    question = "I'm bob@example.com, my key is sk-proj-Zx9Cv8Bn7Mq6Wl5Ek4Rt3Yu2 (TICKET-991)"
    try:
        with FakeProvider(support_agent.SCRIPT) as fake, openai_client(fake) as client:
            done = support_agent.answer(client, question)
            assert question in fake.exchanges[0].raw.decode()  # the provider got it all
        spans = stored_spans(server, done.trace_id)
        calls = server.get(f"/api/v1/runs/{done.trace_id}/llm-calls")["llm_calls"]
    finally:
        sdk.shutdown()
        made.shutdown()
    text = calls[0]["input_messages"][1]["parts"][0]["content"]
    assert text == "I'm [REDACTED:email], my key is [REDACTED:api_key] ([REDACTED:ticket])"
    first = next(s for s in spans if s["span_id"] == calls[0]["span_id"])
    assert first["attributes"]["agentreel.core.redaction.count"] == "3"
    assert first["attributes"]["agentreel.core.redaction.email"] == "1"
    assert "bob@example.com" not in json.dumps(spans) + json.dumps(calls)


def test_content_capture_can_be_turned_off_per_call(to_server: RunningServer) -> None:
    with (
        FakeProvider(support_agent.SCRIPT) as fake,
        openai_client(fake) as client,
        sdk.capture_content(False),
    ):
        done = support_agent.answer(client, "private question")
    spans = stored_spans(to_server, done.trace_id)
    calls = to_server.get(f"/api/v1/runs/{done.trace_id}/llm-calls")["llm_calls"]
    assert len(calls) == 3
    assert all(c["input_messages"] is None and c["output_messages"] is None for c in calls)
    assert all(c["usage"]["input_tokens"] > 0 for c in calls)
    tools = [s["tool"] for s in spans if s["kind"] == "tool"]
    assert tools and all("arguments" not in t and "result" not in t for t in tools)
    assert "private question" not in json.dumps(spans)


def test_spans_go_over_grpc_when_the_endpoint_says_so(server: RunningServer) -> None:
    made = connect(f"grpc://{server.grpc_endpoint}", api_key="ignored-by-an-open-server")
    try:
        done = run_example()
        assert len(stored_spans(server, done.trace_id)) == 8
    finally:
        sdk.shutdown()
        made.shutdown()


def test_redaction_covers_names_scopes_events_and_links() -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link

    from agentreel.core.redaction import Redactor
    from agentreel.sdk._export import SpanRedactor

    address = "alice.smith@example.com"
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer(f"scope {address}", "1.0")
    with tracer.start_as_current_span("linked") as linked:
        pass
    links = [Link(linked.get_span_context(), {"why": f"for {address}"})]
    with tracer.start_as_current_span(f"invoke_agent for {address}", links=links) as one:
        one.add_event(f"mailed {address}", {"n": 1})
    provider.shutdown()
    redacted = SpanRedactor(Redactor(["email"])).span(memory.get_finished_spans()[1])
    assert redacted.name == "invoke_agent for [REDACTED:email]"
    assert redacted.instrumentation_scope is not None
    assert redacted.instrumentation_scope.name == "scope [REDACTED:email]"
    assert redacted.instrumentation_scope.version == "1.0"
    assert redacted.events[0].name == "mailed [REDACTED:email]"
    assert dict(redacted.links[0].attributes or {}) == {"why": "for [REDACTED:email]"}
    assert redacted.links[0].context == linked.get_span_context()
    assert redacted.attributes is not None
    assert redacted.attributes["agentreel.core.redaction.email"] == 4
