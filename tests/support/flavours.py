"""The weather agent of :mod:`support.payloads.scenario` written against every flavour of the
``openai`` and ``anthropic`` clients (sync, async, streaming, raw responses), its tools
under ``@sdk.tool``. :data:`TOOL_LOG` lists each tool body that ran, in order: the ground
truth for tests that expect a tool not to run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai

from agentreel import sdk

from support.agents import anthropic_blocks, openai_stream
from support.fakeprovider import FakeProvider
from support.payloads import scenario

#: (tool name, arguments) of every tool body that ran.
TOOL_LOG: list[tuple[str, dict[str, Any]]] = []


def _logged(name: str) -> Callable[..., Any]:
    impl = scenario.TOOL_IMPLS[name]

    def run(**arguments: Any) -> Any:
        TOOL_LOG.append((name, arguments))
        return impl(**arguments)

    run.__name__ = name
    return run


WEATHER = {t.name: sdk.tool(name=t.name)(_logged(t.name)) for t in scenario.TOOLS}


def _tool_result(name: str, arguments: dict[str, Any]) -> str:
    result = WEATHER[name](**arguments)
    return result if isinstance(result, str) else json.dumps(result)


def openai_turn(messages: list[dict[str, Any]], message: dict[str, Any]) -> bool:
    """Add the model's message and run the tools it asked for; True when it answered."""
    messages.append(message)
    for call in message.get("tool_calls") or []:
        content = _tool_result(call["function"]["name"], json.loads(call["function"]["arguments"]))
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    return not message.get("tool_calls")


def anthropic_turn(messages: list[dict[str, Any]], response: Any) -> bool:
    blocks = anthropic_blocks(response)
    messages.append({"role": "assistant", "content": blocks})
    uses = [b for b in blocks if b["type"] == "tool_use"]
    if uses:
        results = [
            {
                "type": "tool_result",
                "tool_use_id": u["id"],
                "content": _tool_result(u["name"], u["input"]),
            }
            for u in uses
        ]
        messages.append({"role": "user", "content": results})
    return not uses


def openai_agent(base_url: str, stream: bool, raw: bool = False) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": scenario.SYSTEM},
        {"role": "user", "content": scenario.USER_PROMPT},
    ]
    request = {
        "model": scenario.OPENAI_MODEL,
        "messages": messages,
        "tools": [t.openai() for t in scenario.TOOLS],
        "temperature": 0.2,
    }
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if stream:
                message = openai_stream(client, request)
            else:
                if raw:  # as langchain-openai calls it
                    response = client.chat.completions.with_raw_response.create(**request).parse()
                else:
                    response = client.chat.completions.create(**request)
                reply = response.choices[0].message
                message = reply.model_dump(include={"role", "content", "tool_calls"})
            done = openai_turn(messages, message)


async def _folded(chunks: Any) -> dict[str, Any]:
    """An async Chat Completions stream folded into the assistant message."""
    calls: dict[int, dict[str, Any]] = {}
    text = []
    async with chunks:
        async for chunk in chunks:
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
                for delta in choice.delta.tool_calls or []:
                    empty = {
                        "id": "",
                        "type": "function",
                        "function": {"name": "", "arguments": ""},
                    }
                    slot = calls.setdefault(delta.index, empty)
                    slot["id"] = delta.id or slot["id"]
                    if delta.function is not None:
                        slot["function"]["name"] += delta.function.name or ""
                        slot["function"]["arguments"] += delta.function.arguments or ""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


async def openai_agent_async(base_url: str, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.OPENAI_MODEL,
        "messages": messages,
        "tools": [t.openai() for t in scenario.TOOLS],
    }
    async with openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if stream:
                options = {"stream": True, "stream_options": {"include_usage": True}}
                message = await _folded(await client.chat.completions.create(**request, **options))
            else:
                reply = (await client.chat.completions.create(**request)).choices[0].message
                message = reply.model_dump(include={"role", "content", "tool_calls"})
            done = openai_turn(messages, message)


def anthropic_agent(base_url: str, mode: str) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.ANTHROPIC_MODEL,
        "max_tokens": 512,
        "messages": messages,
        "system": scenario.SYSTEM,
        "tools": [t.anthropic() for t in scenario.TOOLS],
    }
    with anthropic.Anthropic(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if mode == "stream":
                with client.messages.stream(**request) as events:
                    response = events.get_final_message()
            else:
                response = client.messages.create(**request)
            done = anthropic_turn(messages, response)


async def anthropic_agent_async(base_url: str) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.ANTHROPIC_MODEL,
        "max_tokens": 512,
        "messages": messages,
        "tools": [t.anthropic() for t in scenario.TOOLS],
    }
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="test", max_retries=0) as c:
        done = False
        while not done:
            async with c.messages.stream(**request) as events:
                response = await events.get_final_message()
            done = anthropic_turn(messages, response)


FLAVOURS: dict[str, Callable[[FakeProvider], None]] = {
    "openai": lambda fake: openai_agent(fake.openai_base_url, False),
    "openai_stream": lambda fake: openai_agent(fake.openai_base_url, True),
    "openai_raw_response": lambda fake: openai_agent(fake.openai_base_url, False, raw=True),
    "openai_async": lambda fake: asyncio.run(openai_agent_async(fake.openai_base_url, False)),
    "openai_async_stream": lambda fake: asyncio.run(openai_agent_async(fake.openai_base_url, True)),
    "anthropic": lambda fake: anthropic_agent(fake.base_url, "create"),
    "anthropic_stream": lambda fake: anthropic_agent(fake.base_url, "stream"),
    "anthropic_async_stream": lambda fake: asyncio.run(anthropic_agent_async(fake.base_url)),
}
