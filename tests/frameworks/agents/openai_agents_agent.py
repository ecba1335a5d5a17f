"""An OpenAI Agents SDK agent traced as OpenInference's docs say.

``python openai_agents_agent.py --api responses|chat [--stream]``: one ``Runner`` run of the
agent ``weather_agent``, on the Responses API (the SDK's default model class) or on Chat
Completions (``OpenAIChatCompletionsModel``), with ``Runner.run`` or ``Runner.run_streamed``.
"""

from __future__ import annotations

import argparse
import asyncio

from agents import Agent, Model, OpenAIChatCompletionsModel, Runner, function_tool
from openai import AsyncOpenAI
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

import agentkit

AGENT_NAME = "weather_agent"
MODEL = "gpt-4.1"


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return agentkit.get_weather(city)


@function_tool
def c_to_f(c: float) -> str:
    """Celsius to Fahrenheit."""
    return agentkit.c_to_f(c)


def build(api: str) -> Agent:
    model: str | Model = MODEL
    if api == "chat":
        model = OpenAIChatCompletionsModel(model=MODEL, openai_client=AsyncOpenAI())
    return Agent(
        name=AGENT_NAME,
        instructions=agentkit.SYSTEM,
        tools=[get_weather, c_to_f],
        model=model,
    )


async def run(agent: Agent, stream: bool) -> str:
    if not stream:
        result = await Runner.run(agent, agentkit.QUESTION)
        return str(result.final_output)
    streamed = Runner.run_streamed(agent, agentkit.QUESTION)
    async for _ in streamed.stream_events():
        pass
    return str(streamed.final_output)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", choices=("responses", "chat"), required=True)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--with-sdk", action="store_true", help="agentreel.sdk.init() too")
    args = parser.parse_args()

    tracer_provider = agentkit.tracing(with_sdk=args.with_sdk)
    OpenAIAgentsInstrumentor().instrument(tracer_provider=tracer_provider)

    answer = asyncio.run(run(build(args.api), args.stream))
    agentkit.report(tracer_provider, answer)


if __name__ == "__main__":
    main()
