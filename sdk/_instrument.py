"""Auto-instrumentation of the ``openai`` and ``anthropic`` clients.

The SDK replaces a few methods on the client *classes* (no ``wrapt``): Chat Completions
``create``, Responses ``create`` and Messages ``create``/``stream``, sync and async. Each call
is an LLM span in the current GenAI conventions, charged to the run's budget.

Another instrumentor may already trace the same call (OpenInference, OpenTelemetry's
openai-v2, OpenLLMetry). Then the call is counted for the budget but not traced a second
time: when the method we wrapped is itself a ``wrapt`` wrapper, when the client's transport
(``OpenAI.request``, which OpenInference wraps) is, or when an LLM span of another
instrumentor is already current (it wrapped outside ours).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from agentreel.core import anthropic_api, openai_api
from agentreel.core.exchange import Request, Response, get

from ._errors import guard, on_error, warn_once
from ._genai import LlmCall
from ._streams import AsyncStream, StreamManager, SyncStream

MARK = "__agentreel_instrumented__"
_LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "responses"})

#: (class, attribute, original) of every method replaced, to undo them.
_patched: list[tuple[type, str, Any]] = []


def _is_wrapt(obj: Any) -> bool:
    return obj is not None and hasattr(obj, "_self_wrapper")


def llm_span_active() -> bool:
    """Whether the current span is an open LLM span (some instrumentor's, or ours)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return False
    attributes = getattr(span, "attributes", None) or {}
    return (
        attributes.get("gen_ai.operation.name") in _LLM_OPERATIONS
        or attributes.get("openinference.span.kind") == "LLM"
        or "llm.request.type" in attributes
    )


def _traced_elsewhere(original: Any, resource: Any, slot: tuple[type, str, Any]) -> bool:
    """Whether another instrumentor traces this call: it wrapped the method before us (we
    call its wrapper), after us (its wrapper calls ours), or the client's transport."""
    if _is_wrapt(original):
        return True
    cls, attr, ours = slot
    current = cls.__dict__.get(attr)
    if current is not ours and _is_wrapt(current):
        return True
    client = getattr(resource, "_client", None)
    if client is not None and _is_wrapt(getattr(type(client), "request", None)):
        return True
    return llm_span_active()


def _caller(original: Any) -> Any:
    """Call ``original`` as the method it was: a ``wrapt`` wrapper must be bound through
    its descriptor to see the instance."""
    if _is_wrapt(original):
        return lambda self, *args, **kwargs: original.__get__(self, type(self))(*args, **kwargs)
    return original


Convert = Callable[[dict[str, Any]], Request]
Accumulator = Callable[[], Any]


def _start(
    original: Any,
    resource: Any,
    kwargs: dict[str, Any],
    to_request: Convert,
    slot: tuple[type, str, Any],
) -> Any:
    """The LlmCall for this call, or None when the SDK cannot describe it (then the call
    runs untraced). ``BudgetExceeded`` propagates: the call must not run."""
    with guard("LLM call request"):
        request = to_request(kwargs)
        elsewhere = _traced_elsewhere(original, resource, slot) or _raw_stream(kwargs)
        call = LlmCall(request, traced=not elsewhere)
        call.attach()
        return call
    return None


def _after(call: LlmCall, kwargs: dict[str, Any], result: Any, proxy: Any, hooks: Hooks) -> Any:
    """The call returned: a stream is handed back wrapped (the span ends with it), a
    response ends the span now."""
    call.detach()
    raw = _is_raw(result)
    if kwargs.get("stream") is True and not raw:
        return proxy(result, call, hooks.accumulator())
    response = None
    with guard("LLM call response"):
        if not raw:
            response = hooks.to_response(result)
        elif kwargs.get("stream") is not True and type(result).__name__ == "LegacyAPIResponse":
            # ``with_raw_response`` (langchain-openai calls it): the body is read already
            # and parse() caches what it builds, so the caller's own parse() gets the same.
            response = hooks.to_response(result.parse())
    # A ``with_streaming_response`` body not read yet is the caller's to read: the span ends
    # without the answer rather than take it from under them. (A raw *stream* was not traced
    # at all, see _raw_stream; here it only settles the budget.)
    call.finish(response)
    return result


def _raw_stream(kwargs: dict[str, Any]) -> bool:
    """A streamed call through ``with_raw_response``/``with_streaming_response``: the body is
    the caller's to read, so the SDK could record neither answer nor usage. It is charged to
    the budget but not traced (a framework that makes it, langchain-openai with
    ``include_response_headers``, traces the call itself)."""
    if kwargs.get("stream") is not True:
        return False
    headers = kwargs.get("extra_headers") or {}
    return any(str(k).lower() == "x-stainless-raw-response" for k in headers)


def _is_raw(result: Any) -> bool:
    """A ``with_raw_response`` result (the HTTP response, parsed on demand) of either client."""
    return hasattr(result, "http_response") and callable(getattr(result, "parse", None))


@dataclass(frozen=True)
class Hooks:
    """How one API's calls are described: request, response, and stream accumulator."""

    to_request: Convert
    to_response: Callable[[Any], Response | None]
    accumulator: Accumulator


def _fail(call: LlmCall) -> on_error:
    return on_error(lambda exc: call.finish(exc=exc))


def _sync(cls: type, attr: str, original: Any, hooks: Hooks) -> Any:
    call_original = _caller(original)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _start(original, self, kwargs, hooks.to_request, slot)
        if call is None:
            return call_original(self, *args, **kwargs)
        with _fail(call):
            result = call_original(self, *args, **kwargs)
        return _after(call, kwargs, result, SyncStream, hooks)

    slot = (cls, attr, wrapper)
    setattr(wrapper, MARK, True)
    return wrapper


def _async(cls: type, attr: str, original: Any, hooks: Hooks) -> Any:
    call_original = _caller(original)

    @functools.wraps(original)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _start(original, self, kwargs, hooks.to_request, slot)
        if call is None:
            return await call_original(self, *args, **kwargs)
        with _fail(call):
            result = await call_original(self, *args, **kwargs)
        return _after(call, kwargs, result, AsyncStream, hooks)

    slot = (cls, attr, wrapper)
    setattr(wrapper, MARK, True)
    return wrapper


def _stream_manager(cls: type, attr: str, original: Any) -> Any:
    """Anthropic ``messages.stream(...)`` (sync and async managers alike)."""
    call_original = _caller(original)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager = call_original(self, *args, **kwargs)
        traced = True
        with guard("LLM stream setup"):
            traced = not _traced_elsewhere(original, self, slot)

        def start() -> LlmCall:
            return LlmCall(anthropic_api.request(kwargs, stream=True), traced)

        return StreamManager(manager, start, anthropic_api.response)

    slot = (cls, attr, wrapper)
    setattr(wrapper, MARK, True)
    return wrapper


def _patch(
    module: str, cls_name: str, attr: str, make: Callable[..., Any], hooks: Hooks | None
) -> bool:
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError):
        return False
    original = cls.__dict__.get(attr)
    if original is None or getattr(original, MARK, False):
        return False
    wrapper = make(cls, attr, original, hooks) if hooks else make(cls, attr, original)
    setattr(cls, attr, wrapper)
    _patched.append((cls, attr, original))
    return True


class _ResponsesAccumulator:
    def __init__(self) -> None:
        self.final: Any = None

    def add(self, event: Any) -> None:
        response = get(event, "response")
        if response is not None:
            self.final = response

    def response(self) -> Response | None:
        return openai_api.responses_response(self.final) if self.final is not None else None


def instrument_openai() -> bool:
    """Trace the ``openai`` client's Chat Completions and Responses calls (``create``, with
    or without streaming, and ``parse``; sync and async). Returns False when ``openai`` is not installed. Idempotent."""
    try:
        importlib.import_module("openai")
    except ImportError:
        return False
    chat = "openai.resources.chat.completions.completions"
    responses = "openai.resources.responses.responses"
    chat_hooks = Hooks(
        openai_api.chat_request,
        openai_api.chat_response,
        openai_api.ChatStreamAccumulator,
    )
    responses_hooks = Hooks(
        openai_api.responses_request,
        openai_api.responses_response,
        _ResponsesAccumulator,
    )
    done = [
        _patch(chat, "Completions", "create", _sync, chat_hooks),
        _patch(chat, "AsyncCompletions", "create", _async, chat_hooks),
        _patch(responses, "Responses", "create", _sync, responses_hooks),
        _patch(responses, "AsyncResponses", "create", _async, responses_hooks),
        # parse() (structured outputs) posts the request itself, not through create().
        _patch(chat, "Completions", "parse", _sync, chat_hooks),
        _patch(chat, "AsyncCompletions", "parse", _async, chat_hooks),
        _patch(responses, "Responses", "parse", _sync, responses_hooks),
        _patch(responses, "AsyncResponses", "parse", _async, responses_hooks),
    ]
    _check_layout(done, chat, "Completions", "openai")
    return True


def instrument_anthropic() -> bool:
    """Trace the ``anthropic`` client's Messages calls (``create`` with or without
    ``stream=True``, and ``stream()``), sync and async. False when not installed."""
    try:
        importlib.import_module("anthropic")
    except ImportError:
        return False
    module = "anthropic.resources.messages.messages"
    hooks = Hooks(
        anthropic_api.request,
        anthropic_api.response,
        anthropic_api.StreamAccumulator,
    )
    done = [
        _patch(module, "Messages", "create", _sync, hooks),
        _patch(module, "AsyncMessages", "create", _async, hooks),
        _patch(module, "Messages", "stream", _stream_manager, None),
        _patch(module, "AsyncMessages", "stream", _stream_manager, None),
    ]
    _check_layout(done, module, "Messages", "anthropic")
    return True


def _check_layout(done: list[bool], module: str, cls_name: str, package: str) -> None:
    """Warn (once) when none of a client's methods could be patched, nor were before."""
    if any(done):
        return
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError):
        cls = None
    if cls is None or not getattr(cls.__dict__.get("create"), MARK, False):
        warn_once(
            f"{package} layout",
            f"agentreel.sdk: this {package} version's layout is unknown; its calls are not traced",
        )


def uninstrument() -> None:
    """Put back every method the SDK replaced."""
    while _patched:
        cls, attr, original = _patched.pop()
        setattr(cls, attr, original)
