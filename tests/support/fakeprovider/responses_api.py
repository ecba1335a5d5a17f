"""OpenAI Responses API responses (``POST /v1/responses``), plain and streamed.

A reply becomes the ``output`` items OpenAI sends: a ``message`` with one ``output_text`` part
when the turn has text, then one ``function_call`` item per tool call. Call ids are the same
``call_0001``... as Chat Completions; item ids are ``msg_{seq}`` and ``fc_{ordinal}``.

A stream is the real event sequence, each event named in its ``event:`` line and numbered by
``sequence_number``: ``response.created``, ``response.in_progress``, then per item
``response.output_item.added``, its content (``content_part.added``, ``output_text.delta``...,
``output_text.done``, ``content_part.done``; or ``function_call_arguments.delta``...,
``function_call_arguments.done``), ``response.output_item.done``, and last
``response.completed`` with the whole response and its usage.
"""

from __future__ import annotations

from typing import Any

from .openai_api import CREATED, response_model
from .script import OPENAI_CALL_PREFIX, Reply, arguments_json
from .usage import openai_usage
from .wire import Response, json_response, split_text, sse_event, sse_response

#: Request fields a response object echoes back, with OpenAI's value when one is not sent.
_ECHOED = {
    "instructions": None,
    "max_output_tokens": None,
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
    "metadata": {},
    "store": True,
}


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(reply: Reply, seq: int, status: str) -> dict[str, Any]:
    content = [_text_part(reply.text or "")] if status == "completed" else []
    return {
        "id": f"msg_{seq:04d}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _function_calls(reply: Reply, status: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"fc_{call.ordinal:04d}",
            "type": "function_call",
            "status": status,
            "call_id": call.call_id(OPENAI_CALL_PREFIX),
            "name": call.name,
            "arguments": arguments_json(call.arguments) if status == "completed" else "",
        }
        for call in reply.calls
    ]


def _output(reply: Reply, seq: int) -> list[dict[str, Any]]:
    message = [_message(reply, seq, "completed")] if reply.text else []
    return message + _function_calls(reply, "completed")


def _response(
    body: dict[str, Any],
    model: str,
    seq: int,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    echoed = {key: body.get(key, default) for key, default in _ECHOED.items()}
    return {
        "id": f"resp_{seq:04d}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": output,
        "reasoning": {"effort": None, "summary": None},
        "text": body.get("text") or {"format": {"type": "text"}},
        "service_tier": "default",
        "usage": usage,
        **echoed,
    }


def _item_events(reply: Reply, seq: int) -> list[dict[str, Any]]:
    """The events of each output item, from ``output_item.added`` to ``output_item.done``."""
    events: list[dict[str, Any]] = []
    done = _output(reply, seq)
    started: list[dict[str, Any]] = []
    if reply.text:
        started.append(_message(reply, seq, "in_progress"))
    started += _function_calls(reply, "in_progress")
    for index, (item, final) in enumerate(zip(started, done, strict=True)):
        where = {"output_index": index}
        events.append({"type": "response.output_item.added", **where, "item": item})
        at = {"item_id": item["id"], **where}
        if item["type"] == "message":
            part = {"content_index": 0, **at}
            events.append({"type": "response.content_part.added", **part, "part": _text_part("")})
            for piece in split_text(reply.text or ""):
                events.append(
                    {"type": "response.output_text.delta", **part, "delta": piece, "logprobs": []}
                )
            text = reply.text or ""
            events.append(
                {"type": "response.output_text.done", **part, "text": text, "logprobs": []}
            )
            events.append({"type": "response.content_part.done", **part, "part": _text_part(text)})
        else:
            for piece in split_text(final["arguments"]):
                events.append(
                    {"type": "response.function_call_arguments.delta", **at, "delta": piece}
                )
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    **at,
                    "name": final["name"],
                    "arguments": final["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", **where, "item": final})
    return events


def _stream(
    reply: Reply, body: dict[str, Any], model: str, seq: int, usage: dict[str, Any]
) -> list[bytes]:
    pending = _response(body, model, seq, "in_progress", [], None)
    events = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
        *_item_events(reply, seq),
        {
            "type": "response.completed",
            "response": _response(body, model, seq, "completed", _output(reply, seq), usage),
        },
    ]
    return [
        sse_event({**event, "sequence_number": number}, event=event["type"])
        for number, event in enumerate(events)
    ]


def respond(
    reply: Reply, body: dict[str, Any], raw: bytes, seq: int
) -> tuple[Response, dict[str, Any] | None]:
    """The response to a scripted call, and the usage object it carries."""
    model = response_model(str(body.get("model", "")))
    usage = openai_usage(raw, reply.output_text).responses()
    headers = {"x-request-id": f"req_{seq:04d}", "openai-processing-ms": "42"}
    if not body.get("stream"):
        payload = _response(body, model, seq, "completed", _output(reply, seq), usage)
        return json_response(200, payload, headers), usage
    return sse_response(_stream(reply, body, model, seq, usage), headers), usage
