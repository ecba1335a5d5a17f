"""A scripted fake of the OpenAI Chat Completions, OpenAI Responses and Anthropic Messages
APIs (plus OpenAI's model list), for tests.

A real HTTP server on ``127.0.0.1`` that the real ``openai`` and ``anthropic`` clients (and the
instrumentors wrapping them) talk to. It answers from a script of turns, reports
deterministic usage (see :mod:`fakeprovider.usage`), records every exchange, and can
inject faults::

    with FakeProvider([ToolCall("get_weather", {"city": "Paris"}), Answer("It is 21C")]) as fake:
        ...
        fake.exchanges[0].body["messages"]
"""

from .records import Exchange
from .script import Answer, Parallel, ToolCall, Turn, arguments_json
from .server import FakeProvider
from .usage import Usage, anthropic_usage, openai_usage

__all__ = [
    "Answer",
    "Exchange",
    "FakeProvider",
    "Parallel",
    "ToolCall",
    "Turn",
    "Usage",
    "anthropic_usage",
    "arguments_json",
    "openai_usage",
]
