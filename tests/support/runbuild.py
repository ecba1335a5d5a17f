"""Agent runs written straight to a store: built span by span in the current OTel GenAI
conventions, or decoded from a saved payload, in a project of their own."""

from __future__ import annotations

import json
import uuid
from typing import Any

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.storage.writer import Writer

from support.otlpbuild import new_span_id, new_trace_id, span, traces
from support.paths import PAYLOADS

BASE = 1_763_700_000_000_000_000
MS = 1_000_000
SYSTEM = [{"type": "text", "content": "You are a travel agent."}]


def new_project() -> str:
    return "tl-" + uuid.uuid4().hex[:8]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"type": "text", "content": text}]}


def calls(*requested: tuple[str, str, str]) -> dict[str, Any]:
    parts = [{"type": "tool_call", "id": i, "name": n, "arguments": a} for i, n, a in requested]
    return {"role": "assistant", "parts": parts}


def answer(text: str) -> dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "text", "content": text}]}


def response(call_id: str, result: str) -> dict[str, Any]:
    return {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": call_id, "response": result}],
    }


class Run:
    """One agent run built span by span in current OTel GenAI conventions, 10 ms a step."""

    def __init__(self, root: bool = True) -> None:
        self.trace_id, self.root = new_trace_id(), new_span_id()
        self.clock = BASE
        self.spans: list[Any] = []
        self.with_root = root

    @property
    def id(self) -> str:
        return self.trace_id.hex()

    def _add(self, name: str, attrs: dict[str, Any], **kw: Any) -> Any:
        self.clock += 10 * MS
        one = span(
            self.trace_id,
            new_span_id(),
            name,
            attrs,
            parent=self.root,
            start_ns=self.clock,
            duration_ns=5 * MS,
            **kw,
        )
        self.spans.append(one)
        return one

    def llm(
        self,
        inputs: list[dict[str, Any]] | None,
        output: dict[str, Any] | None,
        model: str = "gpt-4o",
        system: Any = SYSTEM,
        tools: Any = None,
        **kw: Any,
    ) -> Any:
        a = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 10,
        }
        for key, value in (
            ("gen_ai.system_instructions", system),
            ("gen_ai.tool.definitions", tools),
            ("gen_ai.input.messages", inputs),
            ("gen_ai.output.messages", None if output is None else [output]),
        ):
            if value is not None:
                a[key] = json.dumps(value)
        return self._add(f"chat {model}", a, **kw)

    def tool(
        self, name: str, call_id: str, arguments: str | None, result: str | None, **kw: Any
    ) -> Any:
        a = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        if call_id:
            a["gen_ai.tool.call.id"] = call_id
        if arguments is not None:
            a["gen_ai.tool.call.arguments"] = arguments
        if result is not None:
            a["gen_ai.tool.call.result"] = result
        return self._add(f"execute_tool {name}", a, **kw)

    def other(self, name: str, attrs: dict[str, Any], **kw: Any) -> Any:
        return self._add(name, attrs, **kw)

    def request(self) -> bytes:
        """The run as one OTLP/HTTP protobuf export body."""
        return bytes(traces(self.all_spans()).SerializeToString())

    def write(self, store: Any, project: str) -> str:
        decoded = decode_traces_proto(traces(self.all_spans()).SerializeToString())
        Writer(store).write(normalize_spans(decoded, project).spans, [])
        return self.id

    def all_spans(self) -> list[Any]:
        """The spans added so far, after the run's root span when it has one."""
        spans = list(self.spans)
        if self.with_root:
            attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "travel"}
            root = span(
                self.trace_id,
                self.root,
                "invoke_agent travel",
                attrs,
                start_ns=BASE,
                duration_ns=self.clock - BASE + 10 * MS,
            )
            spans.insert(0, root)
        return spans


def load_payload(name: str, store: Any) -> tuple[str, str]:
    project = f"tl-payload-{uuid.uuid4().hex[:8]}"
    batch = normalize_spans(
        decode_traces_proto((PAYLOADS / f"{name}.traces.pb").read_bytes()), project
    )
    Writer(store).write(batch.spans, [])
    (trace_id,) = {s.trace_id for s in batch.spans}
    return project, trace_id
