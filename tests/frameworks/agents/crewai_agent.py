"""A CrewAI crew (one agent, one task) traced by ``openinference-instrumentation-crewai`` and
``openinference-instrumentation-openai``, as OpenInference's CrewAI docs say. Runs in its own
venv, ``.venv-frameworks-crewai`` (crewai's pins clash with the other frameworks').

``python crewai_agent.py``: one ``kickoff`` of a crew whose agent has the role
``weather_agent``; crewai calls the ``openai`` client itself, with native tool calling.
"""

from __future__ import annotations

import os

# CrewAI's own telemetry and trace upload: off (no network here, and no prompt on stdin).
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")

from crewai import LLM, Agent, Crew, Task
from crewai.tools import tool
from openinference.instrumentation.crewai import CrewAIInstrumentor
from openinference.instrumentation.openai import OpenAIInstrumentor

import agentkit

ROLE = "weather_agent"
MODEL = "gpt-4o-mini"


@tool("get_weather")
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return agentkit.get_weather(city)


@tool("c_to_f")
def c_to_f(c: float) -> str:
    """Celsius to Fahrenheit."""
    return agentkit.c_to_f(c)


def build() -> Crew:
    llm = LLM(model=f"openai/{MODEL}", base_url=os.environ["OPENAI_BASE_URL"])
    agent = Agent(
        role=ROLE,
        goal="Answer weather questions",
        backstory=agentkit.SYSTEM,
        tools=[get_weather, c_to_f],
        llm=llm,
        max_iter=10,
    )
    task = Task(description=agentkit.QUESTION, expected_output="A short answer.", agent=agent)
    return Crew(agents=[agent], tasks=[task])


def main() -> None:
    tracer_provider = agentkit.tracing()
    CrewAIInstrumentor().instrument(tracer_provider=tracer_provider)
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)

    result = build().kickoff()
    agentkit.report(tracer_provider, result.raw)


if __name__ == "__main__":
    main()
