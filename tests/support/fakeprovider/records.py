"""The record of one request and the response the fake provider gave to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One request and its response, in order of arrival (``seq`` counts from 1)."""

    seq: int
    method: str
    path: str
    #: Request headers, names in lowercase.
    headers: dict[str, str]
    #: Request body parsed as JSON, or ``None`` when it is empty or not JSON.
    body: Any
    raw: bytes
    status: int
    #: Response body parsed: a JSON value, or for a stream the list of event payloads.
    response: Any
    response_raw: bytes
    #: The usage object the response carried (provider format), ``None`` if it carried none.
    usage: dict[str, Any] | None
    #: Index of the script turn this answered; ``None`` for injected faults and errors.
    turn: int | None
    streamed: bool
    #: ``"openai"`` (Chat Completions, models), ``"responses"`` (OpenAI Responses API),
    #: ``"anthropic"``, or ``""`` for an unknown route.
    api: str


def parse_json(raw: bytes) -> Any:
    """JSON value of ``raw``, or ``None`` when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def parse_sse(raw: bytes) -> list[Any]:
    """The ``data`` payloads of an SSE body, JSON-decoded where possible (``[DONE]`` stays text)."""
    payloads: list[Any] = []
    for block in raw.decode().split("\n\n"):
        data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
        if data:
            text = "\n".join(data)
            parsed = parse_json(text.encode())
            payloads.append(text if parsed is None else parsed)
    return payloads
