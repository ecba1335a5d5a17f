"""A recorded run as a re-run reads it: the *case* document.

The server builds it from a stored run (``GET /api/v1/runs/{trace_id}/case``,
``agentreel pin``); the SDK's re-run mode reads it, from the server or from a file, to
answer calls and tools from the recording. It is JSON::

    {
      "format": "agentreel.case", "version": 1,
      "trace_id": "<32 hex>", "pinned_at": "<ISO 8601>", "pinned_by": "agentreel 0.1.0",
      "name": "<case name>",            # the file's stem by default
      "command": "python agent.py",     # optional: what `agentreel test` runs
      "run": {...},                     # the run's summary (name, agent, status, error, ...)
      "calls": [<call>, ...],           # every LLM call, numbered from 1 as in /llm-calls
      "tools": [<tool>, ...],           # every tool step, in the order they ran
      "export": {...} | null,           # the run's export document (agentreel import reads it)
      "checksum": "sha256:<hex>"
    }

A ``<call>``: ``call`` (its number), ``provider``, ``operation``, ``request_model``,
``model``, ``response_id``, ``status``, ``error``, the window in GenAI form
(``system_instructions``, ``input_messages``, ``tool_definitions``, ``output_messages``;
None is "not recorded"), ``parameters``, ``finish_reasons`` and ``usage`` (token counts by
the storage's usage names).

A ``<tool>``: ``name``, ``call_id``, ``arguments``, ``result``, ``status`` (``ok`` or
``error``), ``error``, ``after_call`` (the number of the last LLM call that started before
it; 0 before the first) and ``recorded`` (False for a call the model asked for that never
ran: a re-run has no result to serve for it).

The checksum is SHA-256 over the canonical JSON of every other field (sorted keys, compact
separators, UTF-8), the same rule as run exports, so the SDK checks it with the standard
library alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "agentreel.case"
VERSION = 1


class CaseError(ValueError):
    """A case document that cannot be used, and why."""


def checksum(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of every field of ``document`` but ``checksum``."""
    rest = {key: value for key, value in document.items() if key != "checksum"}
    try:
        canonical = json.dumps(
            rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError) as exc:
        raise CaseError(f"the case cannot be serialized: {exc}") from None
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One LLM call of the recording."""

    call: int
    provider: str
    operation: str
    request_model: str
    model: str
    response_id: str
    status: str
    error: str
    system_instructions: Any
    input_messages: list[Any] | None
    tool_definitions: Any
    output_messages: list[Any] | None
    parameters: dict[str, Any]
    finish_reasons: list[str]
    usage: dict[str, int]


@dataclass(frozen=True, slots=True)
class RecordedTool:
    """One tool step of the recording."""

    name: str
    call_id: str
    arguments: Any
    result: Any
    status: str
    error: str
    after_call: int
    recorded: bool


@dataclass(frozen=True, slots=True)
class Case:
    """A parsed, checked case document."""

    trace_id: str
    name: str
    command: str | None
    run: dict[str, Any]
    calls: list[RecordedCall]
    tools: list[RecordedTool]
    document: dict[str, Any] = field(repr=False, compare=False)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _call(number: int, raw: Any) -> RecordedCall:
    if not isinstance(raw, Mapping):
        raise CaseError(f"calls[{number - 1}] is not an object")
    if raw.get("call") != number:
        raise CaseError(f"calls[{number - 1}] has call {raw.get('call')!r}, expected {number}")
    usage = raw.get("usage") or {}
    if not isinstance(usage, Mapping):
        raise CaseError(f"call {number}: usage is not an object")
    return RecordedCall(
        call=number,
        provider=_text(raw.get("provider")),
        operation=_text(raw.get("operation")) or "chat",
        request_model=_text(raw.get("request_model")),
        model=_text(raw.get("model")),
        response_id=_text(raw.get("response_id")),
        status=_text(raw.get("status")) or "ok",
        error=_text(raw.get("error")),
        system_instructions=raw.get("system_instructions"),
        input_messages=raw.get("input_messages"),
        tool_definitions=raw.get("tool_definitions"),
        output_messages=raw.get("output_messages"),
        parameters=dict(raw.get("parameters") or {}),
        finish_reasons=[str(r) for r in raw.get("finish_reasons") or []],
        usage={str(k): int(v or 0) for k, v in usage.items()},
    )


def _tool(index: int, raw: Any) -> RecordedTool:
    if not isinstance(raw, Mapping):
        raise CaseError(f"tools[{index}] is not an object")
    return RecordedTool(
        name=_text(raw.get("name")),
        call_id=_text(raw.get("call_id")),
        arguments=raw.get("arguments"),
        result=raw.get("result"),
        status=_text(raw.get("status")) or "ok",
        error=_text(raw.get("error")),
        after_call=int(raw.get("after_call") or 0),
        recorded=bool(raw.get("recorded", True)),
    )


def parse(document: Any, *, source: str = "the case") -> Case:
    """Check ``document`` (format, version, checksum, fields) and read it; CaseError names
    the first problem."""
    if not isinstance(document, Mapping):
        raise CaseError(f"{source} is not a JSON object")
    if document.get("format") != FORMAT:
        raise CaseError(
            f"{source} is not an agentreel case (format {document.get('format')!r}, "
            f"expected {FORMAT!r}; write one with `agentreel pin TRACE_ID -o FILE`)"
        )
    if document.get("version") != VERSION:
        raise CaseError(
            f"{source} is case version {document.get('version')!r}; this agentreel reads "
            f"version {VERSION}"
        )
    stated = document.get("checksum")
    if stated != checksum(document):
        raise CaseError(f"{source} does not match its checksum: it was changed after pinning")
    calls = document.get("calls")
    tools = document.get("tools")
    if not isinstance(calls, list) or not isinstance(tools, list):
        raise CaseError(f"{source} lacks its calls or tools lists")
    command = document.get("command")
    return Case(
        trace_id=_text(document.get("trace_id")),
        name=_text(document.get("name")),
        command=str(command) if command else None,
        run=dict(document.get("run") or {}),
        calls=[_call(i + 1, raw) for i, raw in enumerate(calls)],
        tools=[_tool(i, raw) for i, raw in enumerate(tools)],
        document=dict(document),
    )


def load(path: str | Path) -> Case:
    """Read and check the case file at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseError(f"cannot read the case {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CaseError(f"{path} is not JSON: {exc}") from None
    return parse(document, source=str(path))
