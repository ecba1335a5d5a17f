"""An AutoGen ``AssistantAgent`` traced by ``openinference-instrumentation-autogen-agentchat``,
as its docs say. autogen-core traces too (``create_agent``, ``invoke_agent``, ``execute_tool``
spans) through the global tracer provider, which is set to the same provider.

``python autogen_agent.py``: one ``run`` of the agent ``weather_agent`` on Chat Completions
(``OpenAIChatCompletionClient``; the client reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import asyncio

from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.openai import OpenAIChatCompletionClient
from openinference.instrumentation.autogen_agentchat import AutogenAgentChatInstrumentor
from opentelemetry import trace

import agentkit

AGENT_NAME = "weather_agent"
MODEL = "gpt-4o-mini"


async def get_weather(city: str) -> str:
    """Current weather for a city."""
    return agentkit.get_weather(city)


async def c_to_f(c: float) -> str:
    """Celsius to Fahrenheit."""
    return agentkit.c_to_f(c)


async def run() -> str:
    client = OpenAIChatCompletionClient(model=MODEL)
    agent = AssistantAgent(
        AGENT_NAME,
        model_client=client,
        tools=[get_weather, c_to_f],
        system_message=agentkit.SYSTEM,
        max_tool_iterations=10,
    )
    result = await agent.run(task=agentkit.QUESTION)
    await client.close()
    return str(result.messages[-1].content)


def main() -> None:
    tracer_provider = agentkit.tracing()
    trace.set_tracer_provider(tracer_provider)
    AutogenAgentChatInstrumentor().instrument(tracer_provider=tracer_provider)

    answer = asyncio.run(run())
    agentkit.report(tracer_provider, answer)


if __name__ == "__main__":
    main()
