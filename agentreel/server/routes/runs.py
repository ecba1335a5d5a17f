"""REST API (``/api/v1``), health and metrics, on the OTLP/HTTP port."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from clickhouse_connect.driver.exceptions import ClickHouseError
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agentreel.collector.metrics import Metrics
from agentreel.replay.render import FORMATS, render
from agentreel.replay.windows import Resolved, llm_calls, resolve
from agentreel.storage import queries
from agentreel.storage.client import ClientPool
from agentreel.storage.scope import check_values, make_scope

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")

#: Error answers every REST route may give, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a request this endpoint takes; `detail` says why"},
    404: {"description": "No run with that trace id"},
    503: {"description": "The store could not answer; retry"},
}


class _Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def router(pool: ClientPool, metrics: Metrics, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(responses=ERRORS)

    @api.get("/healthz", tags=["ops"], summary="Liveness and store reachability")
    def healthz() -> Response:
        try:
            pool.get().query("SELECT 1")
        except Exception as exc:
            return _Json({"status": "unavailable", "error": str(exc)}, status_code=503)
        return _Json({"status": "ok"})

    @api.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        responses={200: {"description": "Prometheus text", "content": {"text/plain": {}}}},
        response_class=PlainTextResponse,
    )
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @api.get("/api/v1/stats", tags=["runs"], summary="What is stored and how much disk it takes")
    def stats() -> Response:
        return _Json(_read(lambda: queries.stats(pool.get(), project())))

    @api.get("/api/v1/runs", tags=["runs"], summary="Runs (one trace = one run)")
    def runs(
        start_from: Annotated[
            str | None, Query(description="Runs started at or after: ISO 8601 or epoch seconds")
        ] = None,
        start_to: Annotated[
            str | None, Query(description="Runs started before: ISO 8601 or epoch seconds")
        ] = None,
        service: str | None = None,
        agent: str | None = None,
        status: Literal["ok", "error"] | None = None,
        session: str | None = None,
        user: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        environment: str | None = None,
        q: Annotated[
            str | None, Query(description="Text in the trace id, root name, session or user")
        ] = None,
        sort: Annotated[str, Query(description=", ".join(queries.RUN_SORTS))] = "start_time",
        order: Literal["asc", "desc"] = "desc",
        limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=queries.MAX_OFFSET)] = 0,
    ) -> Response:
        if sort not in queries.RUN_SORTS:
            raise HTTPException(400, f"sort must be one of {', '.join(queries.RUN_SORTS)}")
        start_from_ns = _time_param("start_from", start_from)
        start_to_ns = _time_param("start_to", start_to)
        if start_from_ns is not None and start_to_ns is not None and start_to_ns <= start_from_ns:
            raise HTTPException(400, "start_to must be after start_from")
        run_filter = queries.RunFilter(
            project=project(),
            start_from_ns=start_from_ns,
            start_to_ns=start_to_ns,
            service=service,
            agent=agent,
            status=status,
            session=session,
            user=user,
            model=model,
            provider=provider,
            environment=environment,
            q=q,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        )
        # Filters added with the dashboard: a value never stored is a 400, not an empty page.
        new = {"model": model, "provider": provider, "environment": environment}
        _read(lambda: check_values(pool.get(), make_scope(project(), None, None, new)))
        return _Json(_read(lambda: queries.list_runs(pool.get(), run_filter)))

    @api.get("/api/v1/runs/{trace_id}", tags=["runs"], summary="One run: its span tree")
    def run(trace_id: str) -> Response:
        trace_id = _trace_id(trace_id)
        client = pool.get()
        summary = _read(lambda: queries.run_summary(client, project(), trace_id))
        if summary is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        spans = _read(lambda: queries.trace_spans(client, project(), trace_id))
        refs = {r for s in spans for r in _span_refs(s)}
        resolved = _read(lambda: resolve(client, project(), refs))
        return _Json({"run": summary, "spans": _tree([_span(s, resolved) for s in spans])})

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls",
        tags=["replay"],
        summary="The run's LLM calls in start order, each with its exact context window",
    )
    def calls(
        trace_id: str,
        format: Annotated[
            str,
            Query(
                description="otel (canonical OTel GenAI messages), openai (a Chat Completions "
                "request body) or anthropic (a Messages API request body)"
            ),
        ] = "otel",
    ) -> Response:
        if format not in FORMATS:
            raise HTTPException(400, f"format must be one of {', '.join(FORMATS)}")
        trace_id = _trace_id(trace_id)
        result = _read(lambda: llm_calls(pool.get(), project(), trace_id))
        if result is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        if format != "otel":
            result = [render(call, format) for call in result]
        return _Json({"trace_id": trace_id, "format": format, "llm_calls": result})

    return api


def _read(fn: Callable[[], Any]) -> Any:
    """Run a store read: a caller's bad filter is 400, an unreachable store 503 (retry);
    anything else is a bug and surfaces as one (500), not as advice to retry."""
    try:
        return fn()
    except queries.BadQuery as exc:
        raise HTTPException(400, str(exc)) from None
    except (ClickHouseError, OSError) as exc:
        raise HTTPException(503, f"the store could not answer: {exc}") from None


def _trace_id(raw: str) -> str:
    value = raw.strip().lower()
    if not _TRACE_ID.match(value):
        raise HTTPException(400, "a trace id is 32 hexadecimal characters")
    return value


def _time_param(name: str, raw: str | None) -> int | None:
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


_ZERO = bytes(16)


def _span_refs(span: dict[str, Any]) -> list[bytes]:
    refs = [span["tool_arguments_ref"], span["tool_result_ref"], *span["attribute_refs"].values()]
    return [r for r in refs if r and r != _ZERO]


def _span(s: dict[str, Any], body: Resolved) -> dict[str, Any]:
    attributes = dict(s["attributes"])
    for key, ref in s["attribute_refs"].items():
        attributes[key] = body(ref)
    out: dict[str, Any] = {
        "span_id": s["span_id"],
        "parent_span_id": s["parent_span_id"],
        "name": s["name"],
        "kind": s["kind"],
        "otel_kind": s["otel_kind"],
        "start_time": queries.iso_ns(s["start_time"]),
        "end_time": queries.iso_ns(s["end_time"]),
        "duration_ms": max(0, s["end_time"] - s["start_time"]) / 1e6,
        "status": s["status"],
        "error_type": s["error_type"],
        "error_message": s["error_message"],
        "service": s["service"],
        "scope": s["scope"],
        "convention": s["convention"],
        "operation": s["operation"],
        "model": s["model"],
        "request_model": s["request_model"],
        "provider": s["provider"],
        "agent": s["agent"],
        "session": s["session"],
        "user": s["user"],
        "usage": queries.usage(s),
        "cost_usd": s["cost_usd"],
        "cost_source": s["cost_source"],
        "counted": bool(s["counted"]),
        "finish_reasons": s["finish_reasons"],
        "content": {
            "input_messages": len(s["input_refs"]),
            "output_messages": len(s["output_refs"]),
            "system_instructions": s["system_ref"] != _ZERO,
            "tool_definitions": s["tools_ref"] != _ZERO,
        },
        "attributes": attributes,
        "resource": s["resource"],
        "events": queries.parse_json(s["events"]),
        "warnings": s["warnings"],
    }
    if s["tool_name"] or s["kind"] == "tool":
        out["tool"] = {"name": s["tool_name"], "call_id": s["tool_call_id"]}
        if s["tool_arguments_ref"] != _ZERO:
            out["tool"]["arguments"] = body(s["tool_arguments_ref"])
        if s["tool_result_ref"] != _ZERO:
            out["tool"]["result"] = body(s["tool_result_ref"])
    return out


def _tree(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest spans under their parents. A span whose parent never arrived, or whose parent
    chain loops back to it (bad ids), is a root: every span appears exactly once."""
    by_id = {s["span_id"]: s for s in spans}
    roots = []
    for span in spans:
        span["children"] = []
    for span in spans:
        parent = by_id.get(span["parent_span_id"])
        if parent is not None and not _in_cycle(span, by_id):
            parent["children"].append(span)
        else:
            roots.append(span)
    return roots


def _in_cycle(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> bool:
    seen = {span["span_id"]}
    node = by_id.get(span["parent_span_id"])
    while node is not None:
        if node["span_id"] in seen:
            return True
        seen.add(node["span_id"])
        node = by_id.get(node["parent_span_id"])
    return False
