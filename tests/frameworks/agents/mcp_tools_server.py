"""The weather tools on a real MCP server (mcp's ``MCPServer``, FastMCP before mcp 2) over
stdio, started by ``mcp_agent.py``. It traces as a service of its own (``OTEL_SERVICE_NAME``
from the agent): mcp's own spans for each request it serves, joined to the agent's trace by the
context the client sends (``openinference-instrumentation-mcp`` on both sides).

When the agent closes the session the server flushes its spans and writes what it ended (see
``agentkit.flush``) to ``MCP_SERVER_REPORT``; stdout is the MCP channel.
"""

from __future__ import annotations

import json
import os

from mcp.server.mcpserver import MCPServer
from openinference.instrumentation.mcp import MCPInstrumentor
from opentelemetry import trace

import agentkit


def build() -> MCPServer:
    server = MCPServer("weather-tools")

    @server.tool()
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return agentkit.get_weather(city)

    @server.tool()
    def c_to_f(c: float) -> str:
        """Celsius to Fahrenheit."""
        return agentkit.c_to_f(c)

    return server


def main() -> None:
    tracer_provider = agentkit.tracing()
    # mcp's own spans go to the global tracer provider.
    trace.set_tracer_provider(tracer_provider)
    MCPInstrumentor().instrument(tracer_provider=tracer_provider)
    try:
        build().run(transport="stdio")
    finally:
        flushed = agentkit.flush(tracer_provider)
        path = os.environ["MCP_SERVER_REPORT"]
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump(flushed, out)
        os.replace(path + ".part", path)  # the agent reads it whole or not at all


if __name__ == "__main__":
    main()
