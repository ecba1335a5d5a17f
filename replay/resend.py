"""Re-send one LLM call's exact context to a model and keep the answer as a new, linked run.

The request body is the call rendered for the target API (:mod:`.render`), so what is sent is
what the original call sent, except for the model when one is given. The answer becomes a new
run in the current OTel GenAI conventions: a root span and one LLM span, both carrying
``agentreel.replay.of.trace_id`` and ``agentreel.replay.of.span_id`` so the two runs can be
found and diffed. An endpoint that is down or answers an error is reported and nothing is
stored.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from agentreel.core import anthropic_api, openai_api, outbound
from agentreel.core.exchange import Usage
from agentreel.core.model import Decoded, DecodedSpan, Resource

from .model import LLMCall
from .render import anthropic_request, openai_request

#: Seconds a re-send may take before it is reported as failed.
DEFAULT_TIMEOUT = 60.0
ANTHROPIC_VERSION = "2023-06-01"


class ResendError(RuntimeError):
    """The endpoint could not be reached or refused the call; nothing was stored."""


@dataclass(frozen=True)
class Target:
    api: str  # "openai" or "anthropic"
    base_url: str
    model: str | None = None
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def resend(call: LLMCall, target: Target) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send ``call``'s context to ``target``; return ``(request body, response body)``."""
    if target.api == "openai":
        body, _ = openai_request(call)
        url = target.base_url.rstrip("/") + "/chat/completions"
        headers = {"authorization": f"Bearer {target.api_key or 'none'}"}
    elif target.api == "anthropic":
        body, _ = anthropic_request(call)
        body.setdefault("max_tokens", 1024)  # required by the API; absent only if not captured
        url = target.base_url.rstrip("/") + "/v1/messages"
        headers = {"x-api-key": target.api_key or "none", "anthropic-version": ANTHROPIC_VERSION}
    else:
        raise ValueError("api must be openai or anthropic")
    if not call.window.input_messages:
        raise ValueError("this call's input messages were not captured; there is nothing to send")
    body.pop("stream", None)  # one answer, not a stream
    body.pop("stream_options", None)
    if target.model:
        body["model"] = target.model
    try:
        outbound.check(url)
    except outbound.UnusableURL as exc:
        raise ValueError(f"base_url is {exc}") from None
    except outbound.OutboundError as exc:
        raise ValueError(f"base_url: {exc}") from None
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=target.timeout)
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url is not a usable URL: {exc}") from None
    except httpx.HTTPError as exc:
        raise ResendError(f"could not reach {url}: {exc}") from None
    if response.status_code >= 400:
        raise ResendError(f"{url} answered {response.status_code}: {response.text[:500]}")
    try:
        answer = response.json()
    except json.JSONDecodeError:
        raise ResendError(f"{url} answered {response.status_code} with no JSON") from None
    if not isinstance(answer, dict):
        raise ResendError(f"{url} answered with JSON that is not an object")
    return body, answer


def as_run(
    call: LLMCall,
    of_trace: str,
    target: Target,
    request: dict[str, Any],
    answer: dict[str, Any],
    started_ns: int,
    ended_ns: int,
) -> tuple[Decoded, str]:
    """The re-sent call as decoded spans of a new run (root + LLM span); returns the trace id."""
    trace_id, root_id, llm_id = os.urandom(16), os.urandom(8), os.urandom(8)
    link = {
        "agentreel.replay.of.trace_id": of_trace,
        "agentreel.replay.of.span_id": call.span_id,
    }
    output, usage, model, finish = _answer(target.api, answer)
    attributes: dict[str, Any] = {
        **link,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": target.api,
        "gen_ai.request.model": request.get("model", ""),
        "gen_ai.response.model": model,
        "gen_ai.input.messages": json.dumps(call.window.input_messages),
        "gen_ai.output.messages": json.dumps(output),
        **{f"gen_ai.usage.{k}": v for k, v in usage.items()},
    }
    if finish:
        attributes["gen_ai.response.finish_reasons"] = [finish]
    window = call.window
    if window.system_instructions:
        attributes["gen_ai.system_instructions"] = json.dumps(window.system_instructions)
    if window.tool_definitions:
        attributes["gen_ai.tool.definitions"] = json.dumps(window.tool_definitions)
    if isinstance(answer.get("id"), str):
        attributes["gen_ai.response.id"] = answer["id"]
    resource = Resource({"service.name": "agentreel-replay"})

    def span(span_id: bytes, parent: bytes, name: str, attrs: dict[str, Any]) -> DecodedSpan:
        return DecodedSpan(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            otel_kind=3 if parent else 1,
            start_ns=started_ns,
            end_ns=ended_ns,
            attributes=attrs,
            events=[],
            status_code=1,
            status_message="",
            resource=resource,
            scope_name="agentreel.replay",
            scope_version="",
        )

    root_attrs = {**link, "agentreel.span.kind": "chain"}
    spans = [
        span(root_id, b"", f"replay of {call.name}", root_attrs),
        span(llm_id, root_id, f"chat {model or request.get('model', '')}", attributes),
    ]
    return Decoded(spans=spans), trace_id.hex()


def _answer(api: str, answer: dict[str, Any]) -> tuple[list[Any], dict[str, int], str, str]:
    """Output messages (canonical), usage (OTel names, input incl. cache), model, finish."""
    if api == "openai":
        response = openai_api.chat_response(answer)
    else:
        content = answer.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        response = anthropic_api.response({**answer, "content": blocks})
    usage = response.usage or Usage()
    counts = {
        # agentreel counts input tokens the OTel way: cached ones included.
        "input_tokens": usage.otel_input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read.input_tokens": usage.cache_read_tokens,
    }
    if api == "openai":
        counts["reasoning.output_tokens"] = usage.reasoning_tokens
    else:
        counts["cache_creation.input_tokens"] = usage.cache_write_tokens
    finish = response.finish_reasons[0] if response.finish_reasons else ""
    return response.messages, counts, response.model, finish


def now_ns() -> int:
    return time.time_ns()
