"""What goes on the wire: a response to send, and Server-Sent Events framing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """A response to send. A streamed one goes out chunk by chunk (chunked transfer encoding)."""

    status: int
    chunks: list[bytes]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    streamed: bool = False

    @property
    def body(self) -> bytes:
        """The whole body, as the client reads it."""
        return b"".join(self.chunks)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A plain JSON response."""
    return Response(status, [json.dumps(payload).encode()], headers=dict(headers or {}))


def sse_event(data: Any, event: str | None = None) -> bytes:
    """One SSE event; ``data`` is JSON-encoded unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def sse_response(events: list[bytes], headers: dict[str, str] | None = None) -> Response:
    """A 200 ``text/event-stream`` response sent one event per chunk."""
    return Response(
        200,
        events,
        content_type="text/event-stream; charset=utf-8",
        headers=dict(headers or {}),
        streamed=True,
    )


def split_text(text: str, size: int = 8) -> list[str]:
    """Cut text into stream deltas of ``size`` characters (at least one, maybe empty)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
