"""REST routes that move a run between agentreel instances: export it, import it.

``GET /api/v1/runs/{trace_id}/export`` answers the run as one self-contained JSON document
(:mod:`agentreel.replay.rundoc`); ``POST /api/v1/runs/import`` takes such a document and
stores its run in this server's project. A document that is cut short, changed, from another
format version or missing content is refused with 400 and the reason; nothing is written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from agentreel.replay.export import (
    ExportError,
    ImportResult,
    export_run,
    import_run,
    parse_document,
)
from agentreel.server.routes import common
from agentreel.storage.client import ClientPool

#: Largest import document accepted by default (413 above); the server passes its
#: ``max_request_bytes`` setting instead.
MAX_IMPORT_BYTES = 64 * 1024 * 1024

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A document from GET /api/v1/runs/{trace_id}/export",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def router(
    pool: ClientPool,
    project: Callable[[], str],
    max_request_bytes: int = MAX_IMPORT_BYTES,
) -> APIRouter:
    api = APIRouter(tags=["transfer"], responses=common.ERRORS)
    # Imports check what is stored, then write: two at once could both find a span missing
    # and write it twice (and count its call twice), so this process runs one at a time.
    one_import = threading.Lock()

    @api.get(
        "/api/v1/runs/{trace_id}/export",
        summary="One run as a self-contained JSON document that another agentreel imports",
    )
    def export(trace_id: str) -> Response:
        trace_id = common.trace_id(trace_id)
        document = common.read(lambda: export_run(pool.get(), project(), trace_id))
        if document is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        filename = f"agentreel-run-{trace_id}.json"
        return common.Json(
            document, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    @api.post(
        "/api/v1/runs/import",
        summary="Store a run exported by an agentreel server (again: nothing is stored twice)",
        openapi_extra=_IMPORT_BODY,
    )
    async def import_(request: Request) -> Response:
        body = await _body(request, max_request_bytes)

        def store() -> ImportResult:
            document = parse_document(body)
            with one_import:
                return import_run(pool.get(), project(), document)

        try:
            result: ImportResult = await run_in_threadpool(common.read, store)
        except ExportError as exc:
            raise HTTPException(400, str(exc)) from None
        return common.Json(
            {
                "trace_id": result.trace_id,
                "spans_written": result.spans_written,
                "already_present": result.already_present,
                "message_events_written": result.message_events_written,
                "content_written": result.content_written,
            }
        )

    return api


async def _body(request: Request, limit: int) -> bytes:
    too_large = HTTPException(
        413, f"the document is over {limit} bytes (AGENTREEL_MAX_REQUEST_BYTES)"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
