"""OTel GenAI attributes of an LLM call, and the span that carries them.

Messages are in the current GenAI form (``role`` + typed ``parts``), as JSON text in
``gen_ai.input.messages``, ``gen_ai.output.messages``, ``gen_ai.system_instructions`` and
``gen_ai.tool.definitions``; parameters are ``gen_ai.request.*``; usage is
``gen_ai.usage.*`` with input tokens *including* cached tokens (the OTel definition).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from agentreel.core.exchange import Request, Response, Usage

from . import _rerun
from ._budget import CURRENT, PendingCall, before_step, charge, start_span
from ._errors import guard
from ._state import capturing


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def request_param_attributes(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        name = f"gen_ai.request.{key}"
        if isinstance(value, bool | int | float | str):
            out[name] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            out[name] = list(value)
        else:
            out[name] = dumps(value)
    return out


class LlmCall:
    """One LLM call being recorded: limits checked before it, span around it, usage charged
    to the run after it. ``traced=False`` (another instrumentor traces this call) still
    counts the call and its cost."""

    __slots__ = ("capture", "request", "span", "token")

    def __init__(self, request: Request, traced: bool = True) -> None:
        self.request = request
        self.span: Span = trace.INVALID_SPAN
        self.token: Any = None
        self.capture = capturing()
        _rerun.take_served()  # a flag a call outside the SDK's tracing left behind
        before_step("llm")
        if not traced:
            return
        with guard("LLM call start"):
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": request.operation,
                "gen_ai.provider.name": request.provider,
                "gen_ai.request.model": request.model,
                **request_param_attributes(request.params),
            }
            if request.server_address:
                attributes["server.address"] = request.server_address
                if request.server_port:
                    attributes["server.port"] = request.server_port
            if self.capture:
                attributes["gen_ai.input.messages"] = dumps(request.messages)
                if request.system:
                    attributes["gen_ai.system_instructions"] = dumps(request.system)
                if request.tools:
                    attributes["gen_ai.tool.definitions"] = dumps(request.tools)
            name = f"{request.operation} {request.model}".strip()
            self.span = start_span(name, attributes, kind=SpanKind.CLIENT)

    def attach(self) -> None:
        """Make the span current (for the provider SDK's own spans and HTTP spans)."""
        if self.span.is_recording():
            self.token = otel_context.attach(trace.set_span_in_context(self.span))

    def detach(self) -> None:
        if self.token is not None:
            otel_context.detach(self.token)
            self.token = None

    def finish(self, response: Response | None = None, exc: BaseException | None = None) -> None:
        """End the span with ``response`` (or the error); then charge the run, which may
        raise ``BudgetExceeded``."""
        self.detach()
        span = self.span
        with guard("LLM call end"):
            if span.is_recording():
                if response is not None:
                    _set_response(span, response, self.capture)
                if exc is not None:
                    span.record_exception(exc)
                    span.set_attribute("error.type", type(exc).__qualname__)
                    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
                span.end()
        if response is None:
            return
        usage = response.usage or Usage()
        with guard("LLM call pending tools"):
            _remember_tool_calls(response.messages)
        model = response.model or self.request.model
        prices_usage = None
        with guard("LLM call usage"):
            prices_usage = usage.prices_usage()
        if _rerun.take_served():
            prices_usage = Usage().prices_usage()  # answered from the recording: free
        if prices_usage is not None:
            charge(self.request.provider, model, prices_usage)


def _set_response(span: Span, response: Response, capture: bool) -> None:
    if response.model:
        span.set_attribute("gen_ai.response.model", response.model)
    if response.response_id:
        span.set_attribute("gen_ai.response.id", response.response_id)
    if response.finish_reasons:
        span.set_attribute("gen_ai.response.finish_reasons", response.finish_reasons)
    if capture and response.messages:
        span.set_attribute("gen_ai.output.messages", dumps(response.messages))
    usage = response.usage
    if usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", usage.otel_input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
        for key, count in (
            ("gen_ai.usage.cache_read.input_tokens", usage.cache_read_tokens),
            ("gen_ai.usage.cache_creation.input_tokens", usage.cache_write_tokens),
            ("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens),
        ):
            if count:
                span.set_attribute(key, count)


def _remember_tool_calls(messages: list[dict[str, Any]]) -> None:
    """The tool calls the model asked for, so ``@tool`` spans get their call ids."""
    state = CURRENT.get()
    if state is None:
        return
    calls = [
        PendingCall(
            str(part.get("name", "")),
            str(part.get("id", "")),
            part["arguments"]
            if isinstance(part.get("arguments"), str)
            else dumps(part.get("arguments") or {}),
        )
        for message in messages
        for part in message.get("parts", ())
        if isinstance(part, dict) and part.get("type") == "tool_call"
    ]
    with state.lock:
        state.pending = calls
