"""``llm_call(...)``: an LLM span by hand, for clients the SDK does not instrument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentreel.core.exchange import Request, Response, Usage, text_part
from agentreel.core.openai_api import chat_message, chat_tool

from ._errors import guard
from ._genai import LlmCall

#: Providers whose APIs report input tokens without the cached ones (Anthropic's way).
_CACHE_APART = frozenset({"anthropic", "aws.bedrock", "gcp.vertex_ai"})


def _message(message: Any) -> dict[str, Any]:
    if isinstance(message, str):
        return {"role": "assistant", "parts": [text_part(message)]}
    if isinstance(message, Mapping) and "parts" in message:
        return dict(message)  # already in the GenAI form
    return chat_message(message)


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    return chat_tool(tool) if "function" in tool else dict(tool)


class llm_call:
    """Record one LLM call made with a client the SDK does not instrument::

        with llm_call("my-model", provider="vllm", messages=msgs, temperature=0.2) as call:
            answer = my_client.complete(msgs)
            call.record(answer.text, usage={"input_tokens": 812, "output_tokens": 40})

    ``messages`` and ``tools`` may be in the OpenAI Chat Completions shape or the GenAI
    form (``role`` + ``parts``); ``system`` is text; other keyword arguments are request
    parameters (``gen_ai.request.<name>``). ``usage`` counts are as the provider reported
    them. Budget limits apply as for instrumented clients.
    """

    def __init__(
        self,
        model: str,
        *,
        provider: str = "openai",
        messages: Sequence[Any] = (),
        system: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        operation: str = "chat",
        **params: Any,
    ) -> None:
        self.request = Request(provider=str(provider), model=str(model), operation=operation)
        with guard("llm_call arguments"):
            self.request.messages = [
                {**_message(m), "role": m.get("role", "user")}
                if isinstance(m, Mapping)
                else {"role": "user", "parts": [text_part(str(m))]}
                for m in messages
            ]
            self.request.system = [text_part(system)] if system else None
            self.request.tools = [_tool(t) for t in tools] if tools else None
            self.request.params = dict(params)
        self.response: Response | None = None
        self._call: LlmCall | None = None

    def record(
        self,
        output: Any = None,
        *,
        usage: Mapping[str, int] | None = None,
        response_model: str | None = None,
        response_id: str | None = None,
        finish_reason: str | None = None,
    ) -> None:
        """What the call returned: ``output`` (text, a message, or a list of messages),
        token ``usage`` (``input_tokens``, ``output_tokens``, ``cache_read_tokens``,
        ``cache_write_tokens``, ``reasoning_tokens``), the model that answered."""
        with guard("llm_call record"):
            outputs = output if isinstance(output, list) else [] if output is None else [output]
            messages = [_message(m) for m in outputs]
            if finish_reason:
                for message in messages:
                    message.setdefault("finish_reason", finish_reason)
            self.response = Response(
                model=response_model or "",
                response_id=response_id or "",
                messages=messages,
                finish_reasons=[finish_reason] if finish_reason else [],
                usage=_usage(self.request.provider, usage) if usage is not None else None,
            )

    def __enter__(self) -> llm_call:
        self._call = LlmCall(self.request)
        self._call.attach()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self._call is not None:
            self._call.finish(self.response or Response(), exc)

    async def __aenter__(self) -> llm_call:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


def _usage(provider: str, usage: Mapping[str, int]) -> Usage:
    counts = {
        k: int(usage.get(k, 0) or 0)
        for k in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
        )
    }
    otel_input = counts["input_tokens"]
    if provider.lower() in _CACHE_APART:
        otel_input += counts["cache_read_tokens"] + counts["cache_write_tokens"]
    return Usage(**counts, otel_input_tokens=otel_input)
