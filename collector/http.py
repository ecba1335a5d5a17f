"""OTLP/HTTP receiver: ``POST /v1/traces``, ``POST /v1/logs`` and ``POST /v1/metrics``.

Answers per the OTLP/HTTP spec: 200 with ``partial_success`` when some items were rejected,
400 malformed, 413 too large, 415 unsupported media type, 429/503 with Retry-After. Bodies
of responses use the request's encoding (protobuf or JSON).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.requests import ClientDisconnect

from . import decode, errors
from .ingest import Format, Ingest, Signal

log = logging.getLogger("agentreel.collector")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

_FORMATS: dict[str, Format] = {PROTOBUF: "proto", JSON: "json"}

#: Which project a request's data belongs to (``auth`` decides it from the request's key; it
#: may raise ``fastapi.HTTPException`` to refuse the request).
ProjectOf = Callable[[Request], str]


#: What an OTLP export may be answered, per the OTLP/HTTP spec, for the OpenAPI document.
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored; `partial_success` lists what was rejected and why",
        "content": {PROTOBUF: {}, JSON: {}},
    },
    400: {"description": "The request cannot be read (google.rpc.Status with the reason)"},
    408: {"description": "The body did not arrive within body_read_timeout"},
    413: {"description": "The request, or what it inflates to, is too large"},
    415: {"description": "Neither application/x-protobuf nor application/json"},
    429: {"description": "Busy: retry after Retry-After seconds"},
    503: {
        "description": "Shutting down, the spool is full or the store failed: "
        "retry after Retry-After seconds"
    },
}
#: The request bodies an export takes.
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
            JSON: {"schema": {"type": "object"}},
        },
    }
}


def router(
    ingest: Ingest,
    max_request_bytes: int,
    write_timeout: float = 60.0,
    project: ProjectOf | None = None,
    body_timeout: float = 60.0,
) -> APIRouter:
    """The OTLP/HTTP routes; ``project`` says whose each request's data is (default: the
    ingest's project); a body must arrive within ``body_timeout`` seconds."""
    api = APIRouter(tags=["otlp"], responses=_ANSWERS)
    project_of: ProjectOf = project or (lambda _request: ingest.project)

    async def export(request: Request, signal: Signal) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        owner = project_of(request)
        # Refused before its body was read, a request's connection is closed: the rest of
        # the body would otherwise be read (and held) on the way to the next request.
        read = False
        try:
            if media not in _FORMATS:
                raise errors.UnsupportedMediaType(
                    f"unsupported content type {media or '(none)'!r}; send {PROTOBUF} or {JSON}"
                )
            ingest.check_backlog()  # a flood is turned away before its body is read
            body, held = await _read(request, ingest, max_request_bytes, body_timeout)
            read = True
            encoding = request.headers.get("content-encoding", "")
            taken = await asyncio.wrap_future(
                ingest.submit(
                    signal, _FORMATS[media], body, project=owner, encoding=encoding, admitted=held
                )
            )
            if taken.durable is not None:
                await asyncio.wrap_future(taken.durable)
            wait = taken.write_wait(ingest.pipeline, write_timeout)
            try:
                # Shielded: giving up on the wait must not cancel the write itself.
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(taken.future)), wait)
            except TimeoutError:
                # Spooled: safe on disk, the writer stores it when the store can.
                if taken.durable is None:
                    raise errors.StoreTimeout(write_timeout) from None
            except errors.KNOWN:
                raise
            except Exception as exc:
                raise errors.StoreFailed(exc) from None
        except errors.KNOWN as exc:
            refused = errors.refusal(exc)
            ingest.metrics.requests.labels("http", signal, str(refused.http_status)).inc()
            wait = ingest.retry_hint.refused() if refused.retry else 0
            return _status_response(refused, media, close=not read, retry_after=wait)
        except ClientDisconnect:
            # The client's business (it stopped, or lost its network): nothing to trace.
            log.info("OTLP/HTTP %s: the client went away before its request was read", signal)
            ingest.metrics.requests.labels("http", signal, "disconnected").inc()
            return Response(status_code=400)
        ingest.metrics.requests.labels("http", signal, "ok").inc()
        return _success(signal, media, taken.rejected, taken.message)

    @api.post("/v1/traces", summary="OTLP/HTTP trace export", openapi_extra=_BODY)
    async def traces(request: Request) -> Response:
        return await export(request, "traces")

    @api.post(
        "/v1/logs", summary="OTLP/HTTP log export (GenAI message events)", openapi_extra=_BODY
    )
    async def logs(request: Request) -> Response:
        return await export(request, "logs")

    @api.post(
        "/v1/metrics",
        summary="OTLP/HTTP metric export (GenAI client metrics kept, others dropped)",
        openapi_extra=_BODY,
    )
    async def metrics(request: Request) -> Response:
        return await export(request, "metrics")

    return api


async def _read(request: Request, ingest: Ingest, limit: int, timeout: float) -> tuple[bytes, int]:
    """The body and the bytes of it admitted as waiting to be decoded (hand them to
    ``submit``).

    Bytes are admitted as they arrive, not as declared: a slow upload holds what it sent,
    never the ``Content-Length`` it promised; and the whole body must arrive within
    ``timeout``, so a stalled one holds even that only for so long.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise decode.TooLarge(f"request is over {limit} bytes")
    chunks: list[bytes] = []
    held = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                if held + len(chunk) > limit:
                    raise decode.TooLarge(f"request is over {limit} bytes")
                held += ingest.admit(len(chunk))
                chunks.append(chunk)
    except TimeoutError:
        ingest.release(held)
        raise errors.BodyTimeout(timeout, held) from None
    except BaseException:
        ingest.release(held)
        raise
    return b"".join(chunks), held


def _success(signal: Signal, media: str, rejected: int, message: str) -> Response:
    response: Any
    if signal == "traces":
        response = ExportTraceServiceResponse()
        if rejected or message:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = message
    elif signal == "metrics":
        response = ExportMetricsServiceResponse()
        if rejected or message:
            response.partial_success.rejected_data_points = rejected
            response.partial_success.error_message = message
    else:
        response = ExportLogsServiceResponse()
        if rejected or message:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = message
    if media == JSON:
        body: dict[str, Any] = {}
        if rejected or message:
            key = _REJECTED_KEY[signal]
            body["partialSuccess"] = {key: str(rejected), "errorMessage": message}
        return Response(orjson.dumps(body), media_type=JSON)
    return Response(response.SerializeToString(), media_type=PROTOBUF)


_REJECTED_KEY = {
    "traces": "rejectedSpans",
    "logs": "rejectedLogRecords",
    "metrics": "rejectedDataPoints",
}


def _status_response(
    refused: errors.Refusal, media: str, close: bool = False, retry_after: int = 0
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if close:
        headers["Connection"] = "close"
    if media == PROTOBUF:
        status = status_pb2.Status(code=refused.rpc_code, message=refused.message)
        return Response(
            status.SerializeToString(), refused.http_status, headers=headers, media_type=PROTOBUF
        )
    body = orjson.dumps({"code": refused.rpc_code, "message": refused.message})
    return Response(body, refused.http_status, headers=headers, media_type=JSON)
