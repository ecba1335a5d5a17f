"""What REST routes share: the JSON response, the error table for the OpenAPI document, store
reads translated to HTTP errors (one LLM call of a run, or 404), the checks of trace ids and
times, and the refusal of numbers that are not finite."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import orjson
from clickhouse_connect.driver.exceptions import ClickHouseError
from fastapi import HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AllowInfNan, StrictFloat

from agentreel.replay.model import LLMCall
from agentreel.replay.windows import some_llm_calls
from agentreel.storage import queries

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
DAY_NS = 86_400 * 10**9

#: Error answers every REST route may give, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a request this endpoint takes; `detail` says why"},
    404: {"description": "No run with that trace id"},
    503: {"description": "The store could not answer; retry"},
}


class Pool(Protocol):
    """Where a request gets its store client (:class:`agentreel.storage.client.ClientPool`)."""

    def get(self) -> Any: ...


class Json(JSONResponse):
    """JSON rendered by orjson (non-string keys allowed)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def read(fn: Callable[[], Any]) -> Any:
    """Run a store read: a caller's bad filter is 400, an unreachable store 503 (retry);
    anything else is a bug and surfaces as one (500), not as advice to retry."""
    try:
        return fn()
    except queries.BadQuery as exc:
        raise HTTPException(400, str(exc)) from None
    except (ClickHouseError, OSError) as exc:
        raise HTTPException(503, f"the store could not answer: {exc}") from None


def calls_around(
    pool: Pool, project: str, trace_id: str, n: int, others: set[int]
) -> tuple[int, dict[int, LLMCall]]:
    """How many LLM calls the run has, and call ``n`` and calls ``others`` (those that exist)
    by number; 404 naming the calls the run has when it has no call ``n``. Only these calls'
    content is read."""
    found: tuple[int, dict[int, LLMCall]] | None = read(
        lambda: some_llm_calls(pool.get(), project, trace_id, {n, *others})
    )
    if found is None:
        raise HTTPException(404, f"no run with trace id {trace_id}")
    total, calls = found
    if n not in calls:
        have = f"calls 1 to {total}" if total else "no LLM calls"
        raise HTTPException(404, f"run {trace_id} has no LLM call {n} (it has {have})")
    return total, calls


def trace_id(raw: str) -> str:
    """``raw`` as a trace id (lower-case hex), or 400."""
    value = raw.strip().lower()
    if not _TRACE_ID.match(value):
        raise HTTPException(400, "a trace id is 32 hexadecimal characters")
    return value


def time_param(name: str, raw: str | None) -> int | None:
    """Query parameter ``name`` (ISO 8601 or epoch seconds) in ns, None when absent; 400 naming
    it when unreadable."""
    if raw is None or raw == "":
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise HTTPException(
                400, f"{name} must be ISO 8601 (2026-11-21T10:00:00Z) or epoch seconds"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    if not 0 <= seconds < 1e11:
        raise HTTPException(400, f"{name} is out of range")
    return int(seconds * 1e9)


def time_range(since: str | None, until: str | None, default_days: int = 7) -> tuple[int, int]:
    """``(since, until)`` in ns from the shared query parameters; 400 naming the bad one."""
    until_ns = time_param("until", until) or time.time_ns()
    since_ns = time_param("since", since)
    if since_ns is None:
        since_ns = until_ns - default_days * DAY_NS
    if until_ns <= since_ns:
        raise HTTPException(400, "until must be after since")
    return since_ns, until_ns


#: A float parameter or body field: NaN, Infinity and -Infinity are refused (400).
Finite = Annotated[float, AllowInfNan(False)]
#: A float body field that also refuses true/false (lax floats read them as 1/0).
StrictFinite = Annotated[StrictFloat, AllowInfNan(False)]


async def invalid_request(request: Request, exc: Exception) -> Any:
    """The answer to a request the routes' parameters refuse: 400 naming the field when a
    number in it is not finite (Python's JSON reader takes ``NaN`` and ``Infinity``, and
    the 422 would echo them in JSON that cannot hold them); otherwise FastAPI's 422."""
    assert isinstance(exc, RequestValidationError)
    for error in exc.errors():
        where = _non_finite(error.get("input"), list(error.get("loc", ())))
        if where is None and error.get("type") == "finite_number":
            where = list(error.get("loc", ()))
        if where is not None:
            detail = f"{_field(where)}: must be a finite number (not NaN or ±Infinity)"
            return Json({"detail": detail}, 400)
    return await request_validation_exception_handler(request, exc)


def _non_finite(value: Any, path: list[Any]) -> list[Any] | None:
    """The path to the first float in ``value`` that is not finite, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    items: Sequence[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    for key, inner in items:
        found = _non_finite(inner, [*path, key])
        if found is not None:
            return found
    return None


def _field(loc: list[Any]) -> str:
    """``["body", 0, "input"]`` as ``body[0].input``; a query or path parameter by its name."""
    if loc and loc[0] in ("query", "path", "header", "cookie") and len(loc) > 1:
        loc = loc[1:]
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"
