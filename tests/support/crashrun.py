"""Crash rounds against a real ``agentreel serve``: kill it between the spans insert and the
last rollup insert (and again during the start-up replay), restart, and check every run,
list and total against what was acknowledged.

One cycle: a server starts with writes to the store failing (``AGENTREEL_TEST_FAULTS``), so
every request the real OTLP exporters send is acknowledged from the spool (and what an earlier
cycle left there waits with it), and with
``AGENTREEL_TEST_KILL_AT`` naming a crash point (agentreel/storage/crashpoints.py). The test
lets writes through; the writer stores the spans and dies with SIGKILL at the point. A second
start may be told to die during its replay too. A clean start then replays the spool, and
the checks compare the server's answers with the runs the test built and got a success for
(their spans, calls, tokens, cost and steps are known here, not read from agentreel).

Used by tests/collector/test_crash_consistency.py (one round) and bench/crash.py (many).
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from support.liveserver import RunningServer, start_server

#: Crash points of a live write, in the order a write reaches them.
WRITE_POINTS = ("spans", "step_daily", "rollups")
#: Where a start dies during its replay: in the re-derivation, or in the replay's write.
REPLAY_POINTS = (None, "rederive", "spans", "rollups")
#: Runs sent per cycle, and per exporter call.
RUNS_PER_CYCLE = 24
RUNS_PER_EXPORT = 4


@dataclass(frozen=True)
class Run:
    """What the test sent for one run, as the truth to check against."""

    trace_id: str
    spans: int
    llm_calls: int
    tool_calls: int
    decisions: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def steps(self) -> int:
        return self.llm_calls + self.tool_calls + self.decisions


@dataclass
class Truth:
    """Every run acknowledged so far, over all cycles."""

    runs: dict[str, Run] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(18))
    calls: int = 0  # LLM calls made, for distinct response ids and token counts


def build_runs(truth: Truth, count: int) -> tuple[list[Run], list[list[ReadableSpan]]]:
    """``count`` runs of an agent (root, LLM calls with their own cost, tool calls, a
    decision or not), finished by the OTel SDK; their spans in exporter-sized groups."""
    finished: list[ReadableSpan] = []

    class Keep(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            finished.extend(spans)
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": "crash"}))
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("tests.crash")
    runs: list[Run] = []
    groups: list[list[ReadableSpan]] = []
    for n in range(count):
        llm, tools, decisions = truth.rng.randint(1, 3), truth.rng.randint(0, 2), n % 2
        tokens_in = tokens_out = 0
        cost = 0.0
        root = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "crash-agent"}
        with tracer.start_as_current_span("invoke_agent crash-agent", attributes=root) as span:
            trace_id = f"{span.get_span_context().trace_id:032x}"
            for _ in range(llm):
                truth.calls += 1
                i, o, usd = 100 + truth.calls, 10 + truth.calls % 7, truth.calls / 1000
                tokens_in, tokens_out, cost = tokens_in + i, tokens_out + o, cost + usd
                attributes = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.id": f"resp-{truth.calls}",
                    "gen_ai.usage.input_tokens": i,
                    "gen_ai.usage.output_tokens": o,
                    "gen_ai.usage.cost": usd,
                }
                with tracer.start_as_current_span("chat gpt-4o", attributes=attributes):
                    pass
            for _ in range(tools):
                tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
                with tracer.start_as_current_span("execute_tool search", attributes=tool):
                    pass
            for _ in range(decisions):
                choice = {"agentreel.decision.name": "route", "agentreel.decision.chosen": "fast"}
                with tracer.start_as_current_span("route", attributes=choice):
                    pass
        spans = 1 + llm + tools + decisions
        runs.append(Run(trace_id, spans, llm, tools, decisions, tokens_in, tokens_out, cost))
        if n % RUNS_PER_EXPORT == 0:
            groups.append([])
        groups[-1].extend(finished)
        finished.clear()
    provider.shutdown()
    return runs, groups


def exporter(server: RunningServer, *, grpc: bool, timeout: float) -> SpanExporter:
    """The real OTLP exporter of either protocol, pointed at ``server``."""
    if grpc:
        return GrpcExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=timeout)
    return HttpExporter(endpoint=server.url + "/v1/traces", timeout=timeout)


def deliver(server: RunningServer, groups: list[list[ReadableSpan]]) -> list[bool]:
    """Export each group once through the real exporters (gRPC and HTTP in turn, two
    threads); whether each got a success."""
    results = [False] * len(groups)

    def work(first: int) -> None:
        sender = exporter(server, grpc=bool(first % 2), timeout=30)
        for n in range(first, len(groups), 2):
            results[n] = sender.export(groups[n]) is SpanExportResult.SUCCESS
        sender.shutdown()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return results


def _env(kill_at: str | None, fault: Path | None = None) -> dict[str, str]:
    env = {"AGENTREEL_SPOOL_ACK_WAIT": "0.2", "AGENTREEL_LOG_LEVEL": "warning"}
    if kill_at is not None:
        env["AGENTREEL_TEST_KILL_AT"] = kill_at
    if fault is not None:
        env["AGENTREEL_TEST_FAULTS"] = str(fault)
    return env


def _died(server: RunningServer, what: str) -> None:
    try:
        server.process.wait(60)
    except Exception:
        server.stop(signal.SIGKILL)
        raise AssertionError(f"the server did not die {what}:\n{server.log()}") from None
    assert server.process.returncode == -signal.SIGKILL, f"{what}:\n{server.log()}"


def send_and_die(data_dir: Path, truth: Truth, point: str) -> None:
    """Send a cycle's runs (acknowledged from the spool: writes fail meanwhile), then let
    the writer through to die at ``point``; the acknowledged runs join ``truth``."""
    fault = data_dir.parent / f"{data_dir.name}-fault"
    fault.write_text("fail")
    server = start_server(data_dir, _env(point, fault))
    try:
        runs, groups = build_runs(truth, RUNS_PER_CYCLE)
        acked = deliver(server, groups)
        for n, run in enumerate(runs):
            if acked[n // RUNS_PER_EXPORT]:
                truth.runs[run.trace_id] = run
        assert all(acked), f"exports failed before any crash: {acked}\n{server.log()}"
        fault.unlink()
        _died(server, f"at {point} while writing")
    finally:
        fault.unlink(missing_ok=True)
        server.stop(signal.SIGKILL)


def crash_cycle(data_dir: Path, truth: Truth, point: str, replay_point: str | None) -> None:
    """:func:`send_and_die` at ``point``, then a start that dies at ``replay_point`` (if
    any) during its replay."""
    send_and_die(data_dir, truth, point)
    if replay_point is not None:
        try:
            again = start_server(data_dir, _env(replay_point))
        except RuntimeError as exc:  # died before it answered /healthz: in the re-derivation
            assert "exited with -9" in str(exc), str(exc)
        else:
            _died(again, f"at {replay_point} during the start-up replay")


def restart(data_dir: Path) -> RunningServer:
    """A clean start, once its spool replay is written."""
    server = start_server(data_dir, _env(None))
    server.wait_for(lambda s: _waiting(s) == 0, timeout=60, what="the spool replay")
    return server


def restart_and_check(data_dir: Path, truth: Truth) -> None:
    """A clean start; once its replay is written, every check against ``truth``."""
    server = restart(data_dir)
    try:
        check(server, truth)
    finally:
        server.stop()


def _waiting(server: RunningServer) -> float | None:
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith("agentreel_waiting_spans "):
            return float(line.split()[1])
    return None


def check(server: RunningServer, truth: Truth) -> None:
    """Runs, the run list, overview, cost per day and the step histogram, against ``truth``."""
    runs = list(truth.runs.values())
    now = datetime.now(UTC)
    window = {
        "since": (now - timedelta(days=1)).date().isoformat(),
        "until": (now + timedelta(days=1)).date().isoformat(),
    }
    stats = server.get("/api/v1/stats")
    assert (stats["spans"], stats["runs"]) == (sum(r.spans for r in runs), len(runs)), stats
    assert stats["llm_calls"] == sum(r.llm_calls for r in runs), stats
    for run in runs:
        response = httpx.get(f"{server.url}/api/v1/runs/{run.trace_id}", timeout=30)
        assert response.status_code == 200, (run, response.text)
        got = response.json()["run"]
        shown = (got["spans"], got["llm_calls"], got["tool_calls"])
        assert shown == (run.spans, run.llm_calls, run.tool_calls), (run, got)
        usage = got["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (
            run.input_tokens,
            run.output_tokens,
        ), (run, got)
        assert abs(got["cost_usd"] - run.cost_usd) < 1e-9, (run, got)
    listed: list[str] = []
    while True:
        page = server.get("/api/v1/runs", limit=500, offset=len(listed))
        listed += [r["trace_id"] for r in page["runs"]]
        if not page["runs"] or len(listed) >= page["total"]:
            break
    assert page["total"] == len(runs) and sorted(listed) == sorted(truth.runs)
    overview = server.get("/api/v1/overview", **window)
    assert overview["runs"] == len(runs), overview
    assert overview["llm_calls"] == sum(r.llm_calls for r in runs), overview
    assert overview["tool_calls"] == sum(r.tool_calls for r in runs), overview
    assert abs(overview["cost_usd"] - sum(r.cost_usd for r in runs)) < 1e-6, overview
    daily = server.get("/api/v1/cost/daily", **window)["rows"]
    assert sum(r["llm_calls"] for r in daily) == sum(r.llm_calls for r in runs), daily
    assert sum(r["input_tokens"] for r in daily) == sum(r.input_tokens for r in runs), daily
    assert sum(r["output_tokens"] for r in daily) == sum(r.output_tokens for r in runs), daily
    assert abs(sum(r["cost_usd"] for r in daily) - sum(r.cost_usd for r in runs)) < 1e-6, daily
    buckets = server.get("/api/v1/steps/histogram", **window)["buckets"]
    assert {b["steps"]: b["runs"] for b in buckets} == dict(Counter(r.steps for r in runs))


def crash_round(data_dir: Path, truth: Truth, round_number: int) -> float:
    """Every write point once, each followed by a replay point in turn, then a clean start
    and the checks; seconds it took. A cycle's start replays what the last one left (its
    writes failing until its own runs are sent), so its kill lands in a write of both; a
    run hidden by any cycle stays hidden, so checking once at the end misses none."""
    started = time.monotonic()
    for n, point in enumerate(WRITE_POINTS):
        replay_point = REPLAY_POINTS[(round_number + n) % len(REPLAY_POINTS)]
        crash_cycle(data_dir, truth, point, replay_point)
    restart_and_check(data_dir, truth)
    return time.monotonic() - started
