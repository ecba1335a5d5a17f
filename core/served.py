"""A recorded LLM call as the provider would have answered it: what re-run mode serves.

:func:`served_body` turns one :class:`~agentreel.core.cases.RecordedCall` into the body of
an OpenAI Chat Completions, OpenAI Responses or Anthropic Messages answer, whole (JSON) or
streamed (server-sent events, in the order the provider sends them), so the real client
parses it as it parses the provider's own. :func:`api_of` tells which of the three a
request path asks for.

Token counts are stored in the OTel GenAI semantics: ``input_tokens`` include the tokens
read from and written to the cache, for every provider. OpenAI's ``prompt_tokens`` and
Responses' ``input_tokens`` count the same way and are served as stored; Anthropic's
``input_tokens`` leave both cache counts out, so they are taken off (unless the stored count
is smaller than the two together: then it can only be Anthropic's raw count, served as is).
Parsing the served body with :mod:`.openai_api` or :mod:`.anthropic_api` gives the stored
counts back.

What a call's answer cannot carry is left out: reasoning in a Chat Completions answer (the
API returns none) and in a Responses answer (sent back, a reasoning item must be the
provider's own: its id and encrypted content, which are not recorded), a thinking block's
signature and a stop sequence's text (not recorded). A call that failed, or whose output
was not recorded, cannot be served (:class:`ServeError`; the re-run answers it with an HTTP
400 naming the call).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agentreel.core.cases import RecordedCall

__all__ = ["APIS", "EVENT_STREAM", "JSON", "ServeError", "api_of", "served_body"]

Json = dict[str, Any]

#: The APIs an answer can be served for.
APIS = ("chat", "responses", "messages")
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
#: Characters of text or tool arguments per streamed delta: several deltas per answer, as a
#: provider sends them, so a client's accumulation is exercised as it is live.
PIECE = 16

#: Finish reasons as any instrumentor records them -> the neutral (Chat Completions) one.
_NEUTRAL_REASONS = {
    **dict.fromkeys(("stop", "end_turn", "stop_sequence", "completed"), "stop"),
    **dict.fromkeys(("tool_calls", "tool_call", "tool_use", "function_call"), "tool_calls"),
    **dict.fromkeys(("length", "max_tokens", "max_output_tokens", "incomplete"), "length"),
    **dict.fromkeys(("content_filter", "refusal"), "content_filter"),
}
_ANTHROPIC_OF = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}
#: Anthropic's own stop reasons, served as recorded.
_ANTHROPIC_REASONS = frozenset(
    {*_ANTHROPIC_OF.values(), "stop_sequence", "pause_turn", "model_context_window_exceeded"}
)
#: Why a Responses answer is incomplete, by neutral finish reason.
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
#: GenAI parts that are no provider's output item or block (one that is, kept as the
#: provider gave it, is served as it is).
_NOT_SERVED = frozenset({"uri", "blob", "file", "tool_call_response"})
#: The stored usage names, in the order of :class:`_Counts`.
_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_TOOL_ID_PREFIX = {"chat": "call", "responses": "call", "messages": "toolu"}


class ServeError(ValueError):
    """A recorded call that cannot be served, and why."""


def api_of(path: str) -> str | None:
    """``"chat"``, ``"responses"`` or ``"messages"``: the API a POST to ``path`` (a URL
    path, a query allowed) calls; None for any other endpoint."""
    path = path.split("?", 1)[0].rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/responses"):  # not /responses/{id}, /responses/{id}/input_items
        return "responses"
    # Anthropic's clients always post to /v1/messages; the prefix keeps out OpenAI's
    # /threads/{id}/messages and /chat/completions/{id}/messages.
    if path.endswith("/v1/messages"):
        return "messages"
    return None


def served_body(
    call: RecordedCall,
    api: str,
    *,
    stream: bool,
    include_usage: bool = True,
    model: str | None = None,
    created: int | None = None,
    request: Mapping[str, Any] | None = None,
) -> tuple[str, bytes]:
    """``(content_type, body)`` of the answer ``api`` would have given for ``call``.

    ``include_usage`` is the request's ``stream_options.include_usage`` (Chat Completions
    streams only); ``model`` names the model when the recording names none; ``created`` is
    the answer's Unix time (now by default); ``request`` is the request body, whose settings a
    Responses answer repeats (``instructions``, ``tools``, ``temperature``...). Raises :class:`ServeError` when the call
    cannot be served.
    """
    if api not in APIS:
        raise ServeError(f"no answer can be served for the API {api!r} (one of {APIS})")
    reply = _reply(call, api, model, int(time.time()) if created is None else created)
    if request is not None and api == "responses":
        reply = replace(reply, echo={k: request[k] for k in _ECHOED if k in request})
    if api == "chat":
        if stream:
            return EVENT_STREAM, b"".join(_chat_chunks(reply, include_usage))
        return JSON, _dumps(_chat_completion(reply))
    if api == "responses":
        if stream:
            return EVENT_STREAM, b"".join(_responses_events(reply))
        return JSON, _dumps(_response(reply, *_responses_status(reply), _output_items(reply)))
    if stream:
        return EVENT_STREAM, b"".join(_messages_events(reply))
    return JSON, _dumps(_message(reply))


# --- the recording, read once ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    """Stored token counts (OTel semantics)."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int


@dataclass(frozen=True, slots=True)
class _Answer:
    """One output message: its parts and its finish reason as recorded ("" when none)."""

    parts: list[Json]
    reason: str

    def neutral_reason(self) -> str:
        reason = _NEUTRAL_REASONS.get(self.reason.lower())
        if reason:
            return reason
        return "tool_calls" if any(p["type"] == "tool_call" for p in self.parts) else "stop"


@dataclass(frozen=True, slots=True)
class _Reply:
    number: int
    response_id: str
    model: str
    created: int
    answers: list[_Answer]
    counts: _Counts
    #: What a Responses answer repeats of its request.
    echo: Json = field(default_factory=dict)

    def merged(self) -> _Answer:
        """The one message Responses and Messages answer with: every part, in order."""
        reason = next((answer.reason for answer in self.answers if answer.reason), "")
        return _Answer([part for answer in self.answers for part in answer.parts], reason)


def _reply(call: RecordedCall, api: str, model: str | None, created: int) -> _Reply:
    number = call.call
    if call.status == "error":
        raise ServeError(
            f"call {number} failed when it was recorded ({call.error or 'error status'}); "
            "there is no answer to serve"
        )
    if call.output_messages is None:
        raise ServeError(f"call {number}'s output was not recorded; there is no answer to serve")
    tool_ids = (f"{_TOOL_ID_PREFIX[api]}_rerun_{number}_{k}" for k in itertools.count())
    answers = []
    for index, message in enumerate(call.output_messages):
        if not isinstance(message, Mapping):
            raise ServeError(f"call {number}: output message {index} is not an object")
        parts = [_part(number, raw, tool_ids) for raw in message.get("parts") or ()]
        reason = message.get("finish_reason")
        if not reason and index < len(call.finish_reasons):
            reason = call.finish_reasons[index]
        answers.append(_Answer(parts, str(reason or "")))
    if not answers:  # recorded, and empty: one message with nothing in it
        answers.append(_Answer([], call.finish_reasons[0] if call.finish_reasons else ""))
    counts = _Counts(*(call.usage.get(key, 0) for key in _USAGE_KEYS))
    served_model = call.model or call.request_model or model or ""
    return _Reply(number, call.response_id, served_model, created, answers, counts)


def _part(number: int, raw: Any, tool_ids: Iterator[str]) -> Json:
    if not isinstance(raw, Mapping):
        raise ServeError(f"call {number}: an output part is not an object")
    kind = raw.get("type")
    if kind in ("text", "reasoning"):
        content = raw.get("content")
        return {"type": kind, "content": "" if content is None else str(content)}
    if kind == "tool_call":
        return {
            "type": "tool_call",
            "id": str(raw.get("id") or next(tool_ids)),
            "name": str(raw.get("name") or ""),
            "arguments": raw.get("arguments"),
        }
    if not isinstance(kind, str) or kind in _NOT_SERVED:
        raise ServeError(f"call {number}: an output part of type {kind!r} cannot be served")
    return dict(raw)


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps({} if arguments is None else arguments, ensure_ascii=False)


def _arguments_object(number: int, arguments: Any) -> Json:
    value = arguments
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            value = None
    elif arguments is None:
        value = {}
    if not isinstance(value, dict):
        raise ServeError(
            f"call {number}: tool arguments {arguments!r} are no JSON object (Anthropic's "
            "tool_use input is one)"
        )
    return value


def _pieces(text: str) -> Iterator[str]:
    return (text[i : i + PIECE] for i in range(0, len(text), PIECE))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _data(value: Any) -> bytes:
    return b"data: " + _dumps(value) + b"\n\n"


def _event(kind: str, **fields: Any) -> bytes:
    """A named event whose data says its type (Responses and Messages stream these)."""
    return f"event: {kind}\n".encode() + _data({"type": kind, **fields})


# --- OpenAI Chat Completions -------------------------------------------------------------------


def _chat_usage(counts: _Counts) -> Json:
    return {
        "prompt_tokens": counts.input,
        "completion_tokens": counts.output,
        "total_tokens": counts.input + counts.output,
        "prompt_tokens_details": {"cached_tokens": counts.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": counts.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_message(number: int, answer: _Answer) -> Json:
    texts, calls = [], []
    for part in answer.parts:
        if part["type"] == "text":
            texts.append(part["content"])
        elif part["type"] == "tool_call":
            function = {"name": part["name"], "arguments": _arguments_text(part["arguments"])}
            calls.append({"id": part["id"], "type": "function", "function": function})
        elif part["type"] != "reasoning":  # the API returns no reasoning text
            raise ServeError(
                f"call {number}: a {part['type']!r} part cannot be served as a chat completion"
            )
    message: Json = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "refusal": None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = calls
    return message


def _chat_completion(reply: _Reply) -> Json:
    choices = [
        {
            "index": index,
            "message": _chat_message(reply.number, answer),
            "logprobs": None,
            "finish_reason": answer.neutral_reason(),
        }
        for index, answer in enumerate(reply.answers)
    ]
    return {
        "id": reply.response_id or f"chatcmpl-rerun-{reply.number}",
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": choices,
        "usage": _chat_usage(reply.counts),
        "system_fingerprint": None,
    }


def _chat_chunks(reply: _Reply, include_usage: bool) -> Iterator[bytes]:
    head = {
        "id": reply.response_id or f"chatcmpl-rerun-{reply.number}",
        "object": "chat.completion.chunk",
        "created": reply.created,
        "model": reply.model,
        "system_fingerprint": None,
    }
    tail = {"usage": None} if include_usage else {}  # usage comes last, on a chunk of its own

    def chunk(index: int, delta: Json, reason: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}
        return _data({**head, "choices": [choice], **tail})

    messages = [_chat_message(reply.number, answer) for answer in reply.answers]
    for index, (answer, message) in enumerate(zip(reply.answers, messages, strict=True)):
        text = message["content"]
        yield chunk(index, {"role": "assistant", "content": None if text is None else ""})
        for piece in _pieces(text or ""):
            yield chunk(index, {"content": piece})
        for k, tool_call in enumerate(message.get("tool_calls", ())):
            function = tool_call["function"]
            first = {**tool_call, "index": k, "function": {**function, "arguments": ""}}
            yield chunk(index, {"tool_calls": [first]})
            for piece in _pieces(function["arguments"]):
                yield chunk(index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
        yield chunk(index, {}, answer.neutral_reason())
    if include_usage:
        yield _data({**head, "choices": [], "usage": _chat_usage(reply.counts)})
    yield b"data: [DONE]\n\n"


# --- OpenAI Responses --------------------------------------------------------------------------


def _responses_status(reply: _Reply) -> tuple[str, Json | None]:
    reason = _INCOMPLETE.get(reply.merged().neutral_reason())
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def _output_items(reply: _Reply) -> list[Json]:
    items: list[Json] = []
    for part in reply.merged().parts:
        key = f"{reply.number}_{len(items)}"
        kind = part["type"]
        if kind == "text":
            content = {
                "type": "output_text",
                "text": part["content"],
                "annotations": [],
                "logprobs": [],
            }
            if items and items[-1]["type"] == "message":
                items[-1]["content"].append(content)
                continue
            items.append(
                {
                    "type": "message",
                    "id": f"msg_rerun_{key}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [content],
                }
            )
        elif kind == "reasoning":
            # Left out: a reasoning item sent back must be the provider's own (its id and
            # encrypted content), which instrumentors do not record.
            continue
        elif kind == "tool_call":
            # No item id: instrumentors do not record it, and a made-up one sent back to the
            # provider in the next request names an item it never had. (The call id stays.)
            items.append(
                {
                    "type": "function_call",
                    "call_id": part["id"],
                    "name": part["name"],
                    "arguments": _arguments_text(part["arguments"]),
                    "status": "completed",
                }
            )
        else:  # an output item kept as the API gave it (a web search call, ...)
            items.append(part)
    return items


def _response(reply: _Reply, status: str, incomplete: Json | None, output: list[Json]) -> Json:
    counts = reply.counts
    usage = {
        "input_tokens": counts.input,
        "input_tokens_details": {"cached_tokens": counts.cache_read},
        "output_tokens": counts.output,
        "output_tokens_details": {"reasoning_tokens": counts.reasoning},
        "total_tokens": counts.input + counts.output,
    }
    return {
        "id": reply.response_id or f"resp_rerun_{reply.number}",
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": None,
        "max_output_tokens": None,
        "model": reply.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": usage if status != "in_progress" else None,
        "user": None,
        "metadata": {},
        **reply.echo,
    }


#: The request settings a Responses answer repeats (the Agents SDK's tracing reads the
#: instructions back from the answer).
_ECHOED = (
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
    "user",
)


#: Output item type -> its streamed list, that list's index name, and the event names of
#: its parts and of their text.
_TEXT_EVENTS = {
    "message": ("content", "content_index", "response.content_part", "response.output_text"),
}


def _started(item: Json, **empty: Any) -> Json:
    """``item`` as ``response.output_item.added`` announces it: nothing in it yet."""
    started = {**item, **empty}
    if "status" in item:
        started["status"] = "in_progress"
    return started


def _responses_events(reply: _Reply) -> Iterator[bytes]:
    numbers = itertools.count()

    def event(kind: str, **fields: Any) -> bytes:
        return _event(kind, sequence_number=next(numbers), **fields)

    status, incomplete = _responses_status(reply)
    output = _output_items(reply)
    started = _response(reply, "in_progress", None, [])
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    for index, item in enumerate(output):
        at = {"item_id": item.get("id", ""), "output_index": index}
        kind = item["type"]
        if kind in _TEXT_EVENTS:
            field, key, part_event, text_event = _TEXT_EVENTS[kind]
            yield event(
                "response.output_item.added", output_index=index, item=_started(item, **{field: []})
            )
            logprobs: Json = {"logprobs": []} if kind == "message" else {}
            for j, part in enumerate(item[field]):
                place = {**at, key: j}
                yield event(f"{part_event}.added", **place, part={**part, "text": ""})
                for piece in _pieces(part["text"]):
                    yield event(f"{text_event}.delta", **place, delta=piece, **logprobs)
                yield event(f"{text_event}.done", **place, text=part["text"], **logprobs)
                yield event(f"{part_event}.done", **place, part=part)
        elif kind == "function_call":
            yield event(
                "response.output_item.added", output_index=index, item=_started(item, arguments="")
            )
            for piece in _pieces(item["arguments"]):
                yield event("response.function_call_arguments.delta", **at, delta=piece)
            done = {"name": item["name"], "arguments": item["arguments"]}
            yield event("response.function_call_arguments.done", **at, **done)
        else:
            yield event("response.output_item.added", output_index=index, item=_started(item))
        yield event("response.output_item.done", output_index=index, item=item)
    final = _response(reply, status, incomplete, output)
    yield event(f"response.{status}", response=final)


# --- Anthropic Messages ------------------------------------------------------------------------


def _stop_reason(answer: _Answer) -> str:
    if answer.reason in _ANTHROPIC_REASONS:
        return answer.reason
    return _ANTHROPIC_OF[answer.neutral_reason()]


def _blocks(reply: _Reply) -> list[Json]:
    blocks: list[Json] = []
    for part in reply.merged().parts:
        kind = part["type"]
        if kind == "text":
            blocks.append({"type": "text", "text": part["content"]})
        elif kind == "reasoning":  # the signature is not recorded
            blocks.append({"type": "thinking", "thinking": part["content"], "signature": ""})
        elif kind == "tool_call":
            # GenAI records Anthropic's server tool calls (web search, ...) as tool calls too.
            server = part["id"].startswith("srvtoolu_")
            blocks.append(
                {
                    "type": "server_tool_use" if server else "tool_use",
                    "id": part["id"],
                    "name": part["name"],
                    "input": _arguments_object(reply.number, part["arguments"]),
                }
            )
        else:  # a block kept as the API gave it (a web search result, ...)
            blocks.append(part)
    return blocks


def _messages_usage(counts: _Counts) -> Json:
    cached = counts.cache_read + counts.cache_write
    return {
        "input_tokens": counts.input - cached if counts.input >= cached else counts.input,
        "cache_creation_input_tokens": counts.cache_write,
        "cache_read_input_tokens": counts.cache_read,
        "output_tokens": counts.output,
    }


def _message(reply: _Reply) -> Json:
    return {
        "id": reply.response_id or f"msg_rerun_{reply.number}",
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": _blocks(reply),
        "stop_reason": _stop_reason(reply.merged()),
        "stop_sequence": None,
        "usage": _messages_usage(reply.counts),
    }


def _opened(block: Json) -> tuple[Json, list[Json]]:
    """``block`` as ``content_block_start`` opens it, and the deltas that fill it."""
    kind = block["type"]
    if kind in ("text", "thinking"):  # a text_delta's field is text, a thinking_delta's thinking
        deltas = [{"type": f"{kind}_delta", kind: piece} for piece in _pieces(block[kind])]
        return {**block, kind: ""}, deltas
    if kind in ("tool_use", "server_tool_use"):
        arguments = json.dumps(block["input"], ensure_ascii=False)
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(arguments)]
        return {**block, "input": {}}, deltas
    return block, []


def _messages_events(reply: _Reply) -> Iterator[bytes]:
    message = _message(reply)
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 0}}
    yield _event("message_start", message=start)
    for index, block in enumerate(message["content"]):
        opened, deltas = _opened(block)
        yield _event("content_block_start", index=index, content_block=opened)
        for delta in deltas:
            yield _event("content_block_delta", index=index, delta=delta)
        yield _event("content_block_stop", index=index)
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield _event("message_delta", delta=stop, usage=usage)
    yield _event("message_stop")
