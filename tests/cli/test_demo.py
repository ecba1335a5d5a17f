"""`agentreel demo`: deterministic, realistic runs through the real OTLP path."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from statistics import median
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentreel.cli.launch import seed_if_empty
from agentreel.demo import generate
from agentreel.settings import Settings

from support.liveserver import RunningServer, free_port

END = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _spans(seed: int, days: int = 7) -> list[ReadableSpan]:
    exporters: list[InMemorySpanExporter] = []

    def exporter_for(_: Any) -> InMemorySpanExporter:
        exporters.append(InMemorySpanExporter())
        return exporters[-1]

    generate(exporter_for, seed=seed, days=days, end=END)
    return [s for e in exporters for s in e.get_finished_spans()]


def _key(span: ReadableSpan) -> tuple[Any, ...]:
    ctx = span.get_span_context()
    assert ctx is not None
    events = [(e.name, e.timestamp, dict(e.attributes or {})) for e in span.events]
    return (
        ctx.trace_id, ctx.span_id, span.name, span.start_time, span.end_time,
        sorted((span.attributes or {}).items(), key=lambda kv: kv[0]), events,
        dict(span.resource.attributes),
    )  # fmt: skip


def test_same_seed_same_spans_other_seed_other_spans() -> None:
    first, again, other = _spans(7, days=2), _spans(7, days=2), _spans(8, days=2)
    assert [_key(s) for s in first] == [_key(s) for s in again]
    assert {s.get_span_context().trace_id for s in first}.isdisjoint(  # type: ignore[union-attr]
        {s.get_span_context().trace_id for s in other}  # type: ignore[union-attr]
    )


def test_a_week_of_realistic_runs() -> None:
    spans = _spans(7)
    end_ns = int(END.timestamp() * 1e9)
    assert 2_000 <= len(spans) <= 8_000
    assert all(end_ns - 7 * 86_400 * 10**9 <= s.start_time <= end_ns for s in spans)  # type: ignore[operator]
    attrs = [dict(s.attributes or {}) for s in spans]
    ops = Counter(a.get("gen_ai.operation.name") for a in attrs)
    assert ops["chat"] > 1_000 and ops["execute_tool"] > 500 and ops["invoke_agent"] > 400
    llm = [a for a in attrs if a.get("gen_ai.operation.name") == "chat"]
    # Current GenAI conventions with content, so replay can rebuild every window.
    for a in llm:
        if "gen_ai.output.messages" in a:
            assert json.loads(str(a["gen_ai.input.messages"]))[0]["role"] == "user"
            assert a["gen_ai.usage.input_tokens"] and a["gen_ai.provider.name"]
    assert {a["gen_ai.provider.name"] for a in llm} == {"openai", "anthropic"}
    decisions = [a for a in attrs if "agentreel.decision.name" in a]
    escalations = [a for a in attrs if "agentreel.escalation.reason" in a]
    assert decisions and escalations
    roots = [s for s in spans if s.name.startswith("invoke_agent")]
    failed = [s for s in roots if not s.status.is_ok]
    assert 0.03 < len(failed) / len(roots) < 0.15
    # Scores per the contract: evaluation events on root spans, and late user feedback.
    scored = [s for s in roots if any(e.name == "gen_ai.evaluation.result" for e in s.events)]
    assert len(scored) > len(roots) // 3
    feedback = [s for s in spans if s.name == "agentreel.score"]
    assert feedback and all(
        s.attributes and s.attributes["agentreel.span.kind"] == "evaluator" for s in feedback
    )
    event = feedback[0].events[0].attributes or {}
    assert event["agentreel.score.kind"] == "correction" and event["agentreel.score.correction"]
    # Expensive outliers: some runs use far more tokens than the typical run.
    per_run: Counter[int] = Counter()
    for s in spans:
        per_run[s.get_span_context().trace_id] += int(
            (s.attributes or {}).get("gen_ai.usage.input_tokens", 0)
        )  # type: ignore[union-attr,arg-type]
    typical = median(per_run.values())
    assert max(per_run.values()) > 20 * typical


def test_routing_shifts_mid_week() -> None:
    spans = _spans(7)
    mid = int(END.timestamp() * 1e9) - 7 * 86_400 * 10**9 // 2
    chosen: dict[bool, Counter[str]] = {False: Counter(), True: Counter()}
    for s in spans:
        a = s.attributes or {}
        support = json.loads(str(a.get("agentreel.decision.options", "[]")))[:1] == ["search_kb"]
        if a.get("agentreel.decision.name") == "choose_tool" and support:
            choice = str(a["agentreel.decision.chosen"])
            chosen[s.start_time >= mid][choice] += 1  # type: ignore[operator]
    before, after = chosen[False], chosen[True]
    assert before["search_kb"] > 5 * before["search_web"]
    assert after["search_web"] > after["search_kb"]


def test_demo_command_sends_through_otlp_and_up_demo_seeds_only_an_empty_store(
    fresh_server: RunningServer,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentreel", "demo", "--api-url", fresh_server.url, "--days", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=fresh_server.env,
    )
    assert done.returncode == 0, done.stderr
    assert "day 1/2" in done.stdout and "day 2/2" in done.stdout
    runs = int(done.stdout.split("agentreel demo: ")[-1].split(" runs")[0])
    stats = fresh_server.wait_for(
        lambda s: (st := s.get("/api/v1/stats"))["runs"] == runs and st, what="demo runs stored"
    )
    assert stats["spans"] > runs
    failing = fresh_server.get("/api/v1/runs", status="error", limit=1)["runs"]
    timeline = fresh_server.get(f"/api/v1/runs/{failing[0]['trace_id']}/timeline")
    assert timeline["first_failure"] is not None
    calls = fresh_server.get(f"/api/v1/runs/{failing[0]['trace_id']}/llm-calls")["llm_calls"]
    assert calls and calls[0]["input_messages"] and not calls[0]["missing_content"]
    # Every model the demo calls is priced from the maintained data or agentreel's own.
    unknown = _cli(fresh_server, "prices", "unknown")
    assert unknown.strip() == "every model called has a price"
    called = json.loads(_cli(fresh_server, "prices", "--json"))["called"]
    assert len(called) >= 4 and all(c["origin"] != "unpriced" for c in called), called
    settings = Settings.load(environ={"AGENTREEL_API_URL": fresh_server.url})
    assert seed_if_empty(settings) is False
    assert fresh_server.get("/api/v1/stats")["spans"] == stats["spans"]


def _cli(server: RunningServer, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agentreel", *args, "--api-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=server.env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_command_with_no_server_says_where_it_looked() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "agentreel", "demo", "--api-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"cannot reach the server at {url}" in done.stderr
    assert "Traceback" not in done.stderr
