"""An ``anthropic`` tool loop whose tools live on a real MCP server over stdio
(``mcp_tools_server.py``), traced by ``openinference-instrumentation-anthropic`` and
``openinference-instrumentation-mcp`` as OpenInference's docs say; the loop is an OpenInference
agent span (``@tracer.agent(name="weather_agent")``).

``python mcp_agent.py [--with-sdk]``: one run. The server is a second process and a second service
(``<OTEL_SERVICE_NAME>-tools``) whose spans join the agent's trace; its span count is added to
the report. Tool results go back to the model as MCP returned them: a list of content blocks.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import anthropic
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from openinference.instrumentation import OITracer, TraceConfig
from openinference.instrumentation.anthropic import AnthropicInstrumentor
from openinference.instrumentation.mcp import MCPInstrumentor
from opentelemetry import trace

import agentkit

AGENT_NAME = "weather_agent"
MODEL = "claude-haiku-4-5"
MAX_TOKENS = 1024
#: Seconds the server may take to flush and write its report once the session is closed.
SERVER_REPORT_TIMEOUT = 30.0
SERVER = Path(__file__).with_name("mcp_tools_server.py")

# --with-sdk: agentreel.sdk.init() too (a re-run needs it: AGENTREEL_RERUN_OF).
tracer_provider = agentkit.tracing(with_sdk="--with-sdk" in sys.argv)
trace.set_tracer_provider(tracer_provider)
tracer = OITracer(tracer_provider.get_tracer(__name__), config=TraceConfig())


def _block(block: Any) -> dict[str, Any]:
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return {"type": "text", "text": block.text}


@tracer.agent(name=AGENT_NAME)
async def run(server_report: Path) -> str:
    environment = {**os.environ, "OTEL_SERVICE_NAME": os.environ["OTEL_SERVICE_NAME"] + "-tools"}
    environment["MCP_SERVER_REPORT"] = str(server_report)
    server = StdioServerParameters(command=sys.executable, args=[str(SERVER)], env=environment)
    client = anthropic.AsyncAnthropic()
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in listed.tools
        ]
        messages: list[dict[str, Any]] = [{"role": "user", "content": agentkit.QUESTION}]
        while True:
            response = await client.messages.create(
                model=MODEL,
                max_tokens=MAX_TOKENS,
                system=agentkit.SYSTEM,
                tools=tools,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
            )
            messages.append({"role": "assistant", "content": [_block(b) for b in response.content]})
            uses = [b for b in response.content if b.type == "tool_use"]
            if not uses:
                return "".join(b.text for b in response.content if b.type == "text")
            results = []
            for use in uses:
                result = await session.call_tool(use.name, use.input)
                content = [{"type": "text", "text": c.text} for c in result.content]
                results.append({"type": "tool_result", "tool_use_id": use.id, "content": content})
            messages.append({"role": "user", "content": results})


def _server_flush(path: Path) -> dict[str, Any]:
    """The server's report, once it has flushed (it writes it as it exits)."""
    deadline = time.monotonic() + SERVER_REPORT_TIMEOUT
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def main() -> None:
    MCPInstrumentor().instrument(tracer_provider=tracer_provider)
    AnthropicInstrumentor().instrument(tracer_provider=tracer_provider)

    server_report = Path(os.environ["FRAMEWORK_TOOL_LOG"]).with_suffix(".mcp-server.json")
    answer = asyncio.run(run(server_report))
    agentkit.report(tracer_provider, answer, others=[_server_flush(server_report)])


if __name__ == "__main__":
    main()
