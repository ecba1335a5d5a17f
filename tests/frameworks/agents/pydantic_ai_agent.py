"""A PydanticAI agent traced by PydanticAI's own OpenTelemetry GenAI instrumentation, as its
docs say without Logfire: ``Agent.instrument_all()`` with the global tracer provider set.

``python pydantic_ai_agent.py``: one ``run_sync`` of the agent ``weather_agent`` on Chat
Completions (``OpenAIChatModel``; the client reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``).
"""

from __future__ import annotations

from opentelemetry import trace
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel

import agentkit

AGENT_NAME = "weather_agent"
MODEL = "gpt-4o-mini"


def build() -> Agent[None, str]:
    agent = Agent(OpenAIChatModel(MODEL), name=AGENT_NAME, instructions=agentkit.SYSTEM)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return agentkit.get_weather(city)

    @agent.tool_plain
    def c_to_f(c: float) -> str:
        """Celsius to Fahrenheit."""
        return agentkit.c_to_f(c)

    return agent


def main() -> None:
    tracer_provider = agentkit.tracing()
    # PydanticAI's instrumentation uses the global tracer provider.
    trace.set_tracer_provider(tracer_provider)
    Agent.instrument_all()

    result = build().run_sync(agentkit.QUESTION)
    agentkit.report(tracer_provider, result.output)


if __name__ == "__main__":
    main()
