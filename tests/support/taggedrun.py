"""An agent run whose every identifying value carries a tag (service, agent, session, user,
model, tool, message text), so a test can tell whose data a response shows."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from support.otlpbuild import new_span_id, new_trace_id, span, traces


@dataclass(frozen=True)
class TaggedRun:
    tag: str
    trace_id: str

    @property
    def secret(self) -> str:
        """Text that appears only in this run's messages and tool results."""
        return f"secret-{self.tag}"

    @property
    def markers(self) -> tuple[str, ...]:
        """Values no response to anyone else may contain."""
        names = ("service", "agent", "session", "user", "model", "tool")
        return (self.secret, *(f"{n}-{self.tag}" for n in names))


def send_run(base_url: str, tag: str, headers: dict[str, str] | None = None) -> TaggedRun:
    """Store a run (agent root, two LLM calls, a tool call) over OTLP/HTTP; 200 required."""
    trace, root, call1, tool, call2 = new_trace_id(), *(new_span_id() for _ in range(4))
    user = {"role": "user", "parts": [{"type": "text", "content": f"hello secret-{tag}"}]}
    asked = {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": f"tool-{tag}", "arguments": {}}],
    }
    answered = {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c1", "response": f"secret-{tag}"}],
    }

    def llm(span_id: bytes, inputs: list[object], outputs: list[object]) -> object:
        return span(
            trace,
            span_id,
            f"chat model-{tag}",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": f"model-{tag}",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.input.messages": json.dumps(inputs),
                "gen_ai.output.messages": json.dumps(outputs),
            },
            parent=root,
        )

    request = traces(
        [
            span(
                trace,
                root,
                f"invoke_agent agent-{tag}",
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": f"agent-{tag}",
                    "gen_ai.conversation.id": f"session-{tag}",
                    "user.id": f"user-{tag}",
                },
            ),
            llm(call1, [user], [asked]),
            span(
                trace,
                tool,
                f"execute_tool tool-{tag}",
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": f"tool-{tag}",
                    "gen_ai.tool.call.id": "c1",
                    "gen_ai.tool.call.arguments": json.dumps({"q": f"secret-{tag}"}),
                    "gen_ai.tool.call.result": f"secret-{tag}",
                },
                parent=root,
                status=2,
                message="tool failed",
            ),
            llm(call2, [user, asked, answered], [{"role": "assistant", "parts": []}]),
        ],
        service=f"service-{tag}",
    )
    response = httpx.post(
        base_url + "/v1/traces",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf", **(headers or {})},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return TaggedRun(tag, trace.hex())
