"""The fake provider's behaviour, apart from HTTP plumbing: route, follow the script, record.

Every method is thread-safe. A request is recorded before its response is sent, so a client
that got its answer always finds the exchange in :attr:`ProviderApp.exchanges`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import anthropic_api, openai_api, responses_api
from .records import Exchange, parse_json, parse_sse
from .script import Reply, Turn, plan
from .wire import Response, json_response

Responder = Callable[[Reply, dict[str, Any], bytes, int], tuple[Response, dict[str, Any] | None]]
ErrorBody = Callable[[int, str], dict[str, Any]]


@dataclass(frozen=True)
class _Api:
    name: str
    suffix: str
    respond: Responder
    error_body: ErrorBody


# Suffix matching lets clients use either the root or ``/v1`` as their base URL.
_APIS = (
    _Api("openai", "/chat/completions", openai_api.respond, openai_api.error_body),
    _Api("responses", "/responses", responses_api.respond, openai_api.error_body),
    _Api("anthropic", "/messages", anthropic_api.respond, anthropic_api.error_body),
)
#: ``GET /v1/models``: answered without consuming a script turn (``turn`` stays ``None``).
_MODELS = _Api("openai", "/models", openai_api.respond, openai_api.error_body)


@dataclass(frozen=True)
class _Fault:
    status: int
    message: str
    retry_after: float | None


class ProviderApp:
    """Scripted OpenAI/Anthropic behaviour with request recording and fault injection."""

    def __init__(self, script: Iterable[Turn] = ()) -> None:
        self._lock = threading.Lock()
        self._replies = plan(script)
        self._cursor = 0
        self._faults: list[_Fault] = []
        self._exchanges: list[Exchange] = []

    def set_script(self, script: Iterable[Turn]) -> None:
        """Replace the script and start again at its first turn (ids restart too)."""
        with self._lock:
            self._replies = plan(script)
            self._cursor = 0

    def fail_next(
        self,
        count: int,
        status: int = 500,
        *,
        message: str = "injected fault",
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``count`` API requests with ``status``; they consume no script turn."""
        with self._lock:
            self._faults += [_Fault(status, message, retry_after)] * count

    @property
    def remaining_turns(self) -> int:
        """Script turns not yet served."""
        with self._lock:
            return len(self._replies) - self._cursor

    @property
    def exchanges(self) -> list[Exchange]:
        """A snapshot of every exchange so far, in order of arrival."""
        with self._lock:
            return list(self._exchanges)

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Response:
        """Decide the response to one request and record the exchange."""
        body = parse_json(raw)
        route = path.split("?")[0]
        api = next((a for a in _APIS if route.endswith(a.suffix)), None)
        with self._lock:
            seq = len(self._exchanges) + 1
            turn: int | None = None
            usage: dict[str, Any] | None = None
            if method == "GET" and route.endswith(_MODELS.suffix):
                api = _MODELS
                response = json_response(200, openai_api.models(), _request_id(seq))
            elif api is None or method != "POST":
                response = json_response(404, {"error": {"message": f"no route {method} {path}"}})
            elif self._faults:
                response = _fault_response(self._faults.pop(0), api, seq)
            elif not isinstance(body, dict):
                response = json_response(400, api.error_body(400, "body is not a JSON object"))
            elif self._cursor >= len(self._replies):
                # 400, not 5xx: clients would retry a server error and hide the mistake.
                message = f"fake provider script exhausted after {self._cursor} turns"
                response = json_response(400, api.error_body(400, message))
            else:
                reply = self._replies[self._cursor]
                self._cursor += 1
                turn = reply.index
                response, usage = api.respond(reply, body, raw, seq)
            self._exchanges.append(
                Exchange(
                    seq=seq,
                    method=method,
                    path=path,
                    headers=headers,
                    body=body,
                    raw=raw,
                    status=response.status,
                    response=parse_sse(response.body)
                    if response.streamed
                    else parse_json(response.body),
                    response_raw=response.body,
                    usage=usage,
                    turn=turn,
                    streamed=response.streamed,
                    api=api.name if api else "",
                )
            )
        return response


def _request_id(seq: int) -> dict[str, str]:
    return {"x-request-id": f"req_{seq:04d}", "request-id": f"req_{seq:04d}"}


def _fault_response(fault: _Fault, api: _Api, seq: int) -> Response:
    headers = _request_id(seq)
    if fault.retry_after is not None:
        headers["retry-after"] = str(math.ceil(fault.retry_after))
        headers["retry-after-ms"] = str(int(fault.retry_after * 1000))
    return json_response(fault.status, api.error_body(fault.status, fault.message), headers)
