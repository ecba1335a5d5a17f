"""Is a request the one the recording made? The re-run's matching rule.

Both sides are read into the same plain form before they are compared: the system text
(system instructions and system/developer messages, joined), then each other message as
its role, its text, the tools it asked for (name and arguments) and the tool results it
carries. Whitespace runs count as one space, JSON text is compared as the value it encodes,
and tool-call ids are not compared (a live call makes new ones). So the same request
written by another instrumentor, or by the provider client itself, compares equal, while a
changed prompt, message, tool result, tool list or model does not.

A slot the recording did not capture (``None``) matches anything: there is nothing to
compare it with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .cases import RecordedCall
from .exchange import Request

_SYSTEM_ROLES = frozenset({"system", "developer"})
#: How much of a differing text a divergence quotes.
QUOTE_CHARS = 80


@dataclass(frozen=True, slots=True)
class _Message:
    """A message as compared: its values as given (equal ones are the same message, the
    cheap check), or in canonical form (:meth:`canonical`, for the others)."""

    role: str
    text: str
    tool_calls: tuple[tuple[str, Any], ...]
    tool_results: tuple[Any, ...]

    def canonical(self) -> _Message:
        return _Message(
            self.role,
            _squash(self.text),
            tuple((name, _value(arguments)) for name, arguments in self.tool_calls),
            tuple(_value(result) for result in self.tool_results),
        )


def _same(recorded: _Message, sent: _Message) -> bool:
    """Whether two messages say the same; each value compared as given first, canonically
    only when that differs (windows repeat the whole conversation at every call)."""
    if recorded == sent:
        return True
    if recorded.role != sent.role or len(recorded.tool_calls) != len(sent.tool_calls):
        return False
    if len(recorded.tool_results) != len(sent.tool_results):
        return False
    if recorded.text != sent.text and _squash(recorded.text) != _squash(sent.text):
        return False
    for (name, arguments), (sent_name, sent_arguments) in zip(
        recorded.tool_calls, sent.tool_calls, strict=True
    ):
        if name != sent_name or not _same_value(arguments, sent_arguments):
            return False
    return all(
        _same_value(a, b) for a, b in zip(recorded.tool_results, sent.tool_results, strict=True)
    )


def _same_value(recorded: Any, sent: Any) -> bool:
    return recorded == sent or _value(recorded) == _value(sent)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _value(value: Any) -> str:
    """Canonical text of an argument or result: JSON text as the value it encodes."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return _squash(value)
        if isinstance(value, str):
            return _squash(value)
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return _squash(str(value))


def _parts(message: Any) -> list[Any]:
    if not isinstance(message, dict):
        return [{"type": "text", "content": message}]
    parts = message.get("parts")
    if parts is None and "content" in message:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "content": content}]
    return list(parts or [])


def _text_of(part: dict[str, Any]) -> str | None:
    for key in ("content", "text"):
        value = part.get(key)
        if isinstance(value, str):
            return value
    return None


def _result(part: dict[str, Any]) -> Any:
    for key in ("response", "result", "content", "output"):
        if key in part:
            value = part[key]
            if isinstance(value, list):  # content blocks: their text
                texts = [_text_of(b) if isinstance(b, dict) else str(b) for b in value]
                return "".join(t for t in texts if t)
            return value
    return ""


def _read(messages: Iterable[Any]) -> tuple[list[str], list[_Message]]:
    """(system texts, the other messages) of a GenAI message list."""
    system: list[str] = []
    out: list[_Message] = []
    for message in messages:
        role = str(message.get("role", "")) if isinstance(message, dict) else "user"
        texts: list[str] = []
        calls: list[tuple[str, Any]] = []
        results: list[Any] = []
        for part in _parts(message):
            if not isinstance(part, dict):
                texts.append(str(part))
                continue
            kind = part.get("type")
            if kind == "tool_call":
                calls.append((str(part.get("name", "")), part.get("arguments")))
            elif kind in ("tool_call_response", "tool_result", "function_call_output"):
                results.append(_result(part))
            elif kind in ("reasoning", "thinking"):
                continue  # providers drop or encrypt it on the way back
            else:
                text = _text_of(part)
                if text is not None:
                    texts.append(text)
        text = " ".join(texts)
        if role in _SYSTEM_ROLES:
            if text.strip():
                system.append(_squash(text))
            continue
        if results and not text.strip() and not calls:
            role = "tool"  # Anthropic carries tool results in a user message
        if not (text.strip() or calls or results):
            continue
        out.append(_Message(role, text, tuple(calls), tuple(results)))
    return system, out


def _system_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [_squash(value)] if value.strip() else []
    texts = []
    for part in value if isinstance(value, list) else [value]:
        text = _text_of(part) if isinstance(part, dict) else str(part)
        if text and text.strip():
            texts.append(_squash(text))
    return texts


def _quote(text: str) -> str:
    if len(text) <= QUOTE_CHARS:
        return repr(text)
    return repr(text[: QUOTE_CHARS - 1] + "…")


def _tool_names(definitions: Any) -> list[str] | None:
    if not isinstance(definitions, list):
        return None
    names = []
    for tool in definitions:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        name = (function if isinstance(function, dict) else tool).get("name")
        if name:
            names.append(str(name))
    return sorted(names)


def _describe(index: int, recorded: _Message, sent: _Message) -> str:
    where = f"message {index + 1} ({sent.role})"
    if recorded.role != sent.role:
        return f"{where} was a {recorded.role} message in the recording"
    if recorded.text != sent.text:
        return f"{where} text differs: recorded {_quote(recorded.text)}, sent {_quote(sent.text)}"
    if recorded.tool_calls != sent.tool_calls:
        return (
            f"{where} asks for other tools: recorded {recorded.tool_calls}, sent {sent.tool_calls}"
        )
    return (
        f"{where} carries other tool results: recorded {_quote(' | '.join(recorded.tool_results))}, "
        f"sent {_quote(' | '.join(sent.tool_results))}"
    )


@dataclass(frozen=True, slots=True)
class Expected:
    """A recorded call's request read into the compared form once (a re-run compares each
    recorded call with one request or a few)."""

    request_model: str
    captured: bool
    system: str | None
    messages: list[_Message]
    tools: list[str] | None


def expected(recorded: RecordedCall) -> Expected:
    if recorded.input_messages is None:
        return Expected(recorded.request_model, False, None, [], None)
    system, messages = _read(recorded.input_messages)
    system = _system_texts(recorded.system_instructions) + system
    has_system = recorded.system_instructions is not None or bool(system)
    return Expected(
        recorded.request_model,
        True,
        " ".join(system) if has_system else None,
        messages,
        _tool_names(recorded.tool_definitions),
    )


def request_difference(recorded: RecordedCall | Expected, request: Request) -> str | None:
    """What differs between the recorded call's request and ``request`` (one sentence), or
    None when they are the same request."""
    want = recorded if isinstance(recorded, Expected) else expected(recorded)
    if want.request_model and request.model and want.request_model != request.model:
        return f"model: recorded {want.request_model!r}, sent {request.model!r}"
    if not want.captured:
        return None
    sent_system, sent_messages = _read(request.messages)
    sent = " ".join(_system_texts(request.system) + sent_system)
    if want.system is not None and want.system != sent:
        return f"system prompt: recorded {_quote(want.system)}, sent {_quote(sent)}"
    rec_messages = want.messages
    for index, (rec, now) in enumerate(zip(rec_messages, sent_messages, strict=False)):
        if not _same(rec, now):
            return _describe(index, rec.canonical(), now.canonical())
    if len(sent_messages) > len(rec_messages):
        extra = sent_messages[len(rec_messages)]
        return (
            f"{len(sent_messages)} messages sent where the recording has {len(rec_messages)}: "
            f"message {len(rec_messages) + 1} ({extra.role}) is new: {_quote(_squash(extra.text))}"
        )
    if len(sent_messages) < len(rec_messages):
        return f"{len(sent_messages)} messages sent where the recording has {len(rec_messages)}"
    sent_tools = _tool_names(request.tools or [])
    if want.tools is not None and want.tools != sent_tools:
        return f"tools offered: recorded {want.tools}, sent {sent_tools}"
    return None
