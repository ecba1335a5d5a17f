"""Synthetic agent runs for the quality-signal tests: an agent span, LLM calls in the OTel
GenAI convention (tool requests, then a final answer), tool spans with results; normalized
and written to a real store, or sent to a live server as OTLP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentreel.collector.decode import traces_from_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.storage.writer import Writer

from support.otlpbuild import new_span_id, new_trace_id, span, traces

MS = 1_000_000


@dataclass
class Run:
    agent: str = "support"
    model: str = "gpt-4o"
    tools: Sequence[tuple[str, Any]] = ()  # (tool name, result)
    answer: str | None = "Done."
    question: str = "Where is my order?"
    start_ns: int = field(default_factory=lambda: time.time_ns() - 60 * 10**9)
    error: bool = False
    cost: float = 0.0
    decisions: Sequence[tuple[str, str]] = ()  # (decision name, chosen)
    escalation: str | None = None
    trace_id: bytes = field(default_factory=new_trace_id)
    root_events: Sequence[tuple[str, dict[str, Any]]] = ()
    user: str = ""  # the root span's user.id when set

    @property
    def trace_hex(self) -> str:
        return self.trace_id.hex()


def _messages(role: str, parts: list[dict[str, Any]]) -> str:
    return json.dumps([{"role": role, "parts": parts}])


def spans_of(run: Run) -> list[Any]:
    """The run's OTLP spans: root agent span, then LLM → tool → … → final LLM call."""
    root_id = new_span_id()
    t = run.start_ns
    out = []
    history = [{"role": "user", "parts": [{"type": "text", "content": run.question}]}]
    for i, (decision, chosen) in enumerate(run.decisions):
        attrs = {"agentreel.decision.name": decision, "agentreel.decision.chosen": chosen}
        out.append(span(run.trace_id, new_span_id(), f"decide {i}", attrs, parent=root_id,
                        start_ns=t + MS))  # fmt: skip
    for i, (tool, result) in enumerate(run.tools):
        call_id = f"call_{i}"
        request = {"type": "tool_call", "id": call_id, "name": tool, "arguments": {}}
        out.append(_llm(run, root_id, t + (2 * i + 1) * 10 * MS, history, [request]))
        history = [*history, {"role": "assistant", "parts": [request]}]
        text = result if isinstance(result, str) else json.dumps(result)
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.result": text,
        }
        out.append(span(run.trace_id, new_span_id(), f"execute_tool {tool}", attrs,
                        parent=root_id, start_ns=t + (2 * i + 2) * 10 * MS))  # fmt: skip
        response = {"type": "tool_call_response", "id": call_id, "response": text}
        history = [*history, {"role": "tool", "parts": [response]}]
    end = t + (2 * len(run.tools) + 1) * 10 * MS
    if run.answer is not None:
        out.append(_llm(run, root_id, end, history, [{"type": "text", "content": run.answer}]))
    if run.escalation:
        attrs = {
            "agentreel.escalation.reason": run.escalation,
            "agentreel.escalation.target": "human",
        }
        out.append(span(run.trace_id, new_span_id(), "escalate", attrs, parent=root_id,
                        start_ns=end + 2 * MS))  # fmt: skip
    root_attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": run.agent}
    if run.user:
        root_attrs["user.id"] = run.user
    out.insert(0, span(run.trace_id, root_id, f"invoke_agent {run.agent}", root_attrs,
                       start_ns=t, duration_ns=end - t + 5 * MS, status=2 if run.error else 0,
                       events=run.root_events))  # fmt: skip
    return out


def _llm(run: Run, parent: bytes, start: int, history: list[Any], parts: list[Any]) -> Any:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": run.model,
        "gen_ai.input.messages": json.dumps(history),
        "gen_ai.output.messages": _messages("assistant", parts),
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cost": run.cost,
    }
    return span(run.trace_id, new_span_id(), f"chat {run.model}", attrs, parent=parent,
                start_ns=start, duration_ns=5 * MS)  # fmt: skip


def write(store: Any, project: str, runs: Sequence[Run]) -> None:
    """Normalize and write the runs to ``store`` as the collector would."""
    request = traces([s for r in runs for s in spans_of(r)])
    batch = normalize_spans(traces_from_proto(request), project)
    assert not batch.rejected, batch.rejected
    Writer(store).write(batch.spans, [])


def send(server: Any, runs: Sequence[Run]) -> None:
    """Send the runs to a live server over OTLP/HTTP and wait until they are stored."""
    import httpx

    request = traces([s for r in runs for s in spans_of(r)])
    response = httpx.post(
        server.url + "/v1/traces",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    for run in runs:
        server.wait_for(
            lambda s, r=run: httpx.get(f"{s.url}/api/v1/runs/{r.trace_hex}").status_code == 200,
            what=f"run {run.trace_hex} stored",
        )


class Receiver:
    """A local webhook receiver: records bodies; answers ``statuses`` in turn (then 200), or
    never answers when ``hang``."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.bodies: list[Any] = []
        self.statuses = list(statuses or [])
        self.hang = hang
        self.release = threading.Event()
        self.got = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with receiver.got:
                    receiver.bodies.append(body)
                    receiver.got.notify_all()
                if receiver.hang:
                    receiver.release.wait(30)
                    return
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 20) -> list[Any]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.bodies) >= count, timeout), self.bodies
            return list(self.bodies)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
