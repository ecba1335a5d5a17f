"""The run every payload records: a weather agent, two tool calls, then an answer.

Tests that decode the payloads can compare against these constants.
"""

from __future__ import annotations

from typing import Any

from support.agents import ToolImpl, ToolSpec
from support.fakeprovider import Answer, ToolCall, Turn

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
AGENT_NAME = "weather_agent"
SESSION_ID = "session-0001"
USER_ID = "user-0001"

SYSTEM = "You are a terse weather bot."
USER_PROMPT = "Weather in Paris, in F?"
ANSWER = "Paris: 21C (69.8F), sunny."

TOOLS = (
    ToolSpec(
        "get_weather",
        "Current weather for a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    ),
    ToolSpec(
        "c_to_f",
        "Celsius to Fahrenheit.",
        {"type": "object", "properties": {"c": {"type": "number"}}, "required": ["c"]},
    ),
)


def get_weather(city: str) -> dict[str, Any]:
    """A fixed forecast."""
    return {"city": city, "temp_c": 21, "sky": "sunny"}


def c_to_f(c: float) -> float:
    """Plain conversion."""
    return round(c * 9 / 5 + 32, 1)


TOOL_IMPLS: dict[str, ToolImpl] = {"get_weather": get_weather, "c_to_f": c_to_f}


def script() -> list[Turn]:
    """What the fake provider answers: two tool calls, then :data:`ANSWER`."""
    return [
        ToolCall("get_weather", {"city": "Paris"}),
        ToolCall("c_to_f", {"c": 21}),
        Answer(ANSWER),
    ]
