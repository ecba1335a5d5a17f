"""Runs: what is stored (``/stats``), the run list, and one run's span tree (with what it re-ran
and its re-runs). Its LLM calls and timeline are the replay routes' (:mod:`.replay`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from agentreel.replay.windows import Resolved, resolve
from agentreel.server.routes import common
from agentreel.storage import columns, queries, runtable
from agentreel.storage.scope import check_values, make_scope


def router(pool: common.Pool, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)

    @api.get("/api/v1/stats", tags=["runs"], summary="What is stored and how much disk it takes")
    def stats(
        project_bytes: Annotated[
            bool,
            Query(
                description="Also estimate your project's share of the bytes on disk "
                "(project_storage_bytes_estimate); reads every row, so it is off by default"
            ),
        ] = False,
    ) -> Response:
        return common.Json(
            common.read(lambda: queries.stats(pool.get(), project(), project_bytes=project_bytes))
        )

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
        start_from_ns = common.time_param("start_from", start_from)
        start_to_ns = common.time_param("start_to", start_to)
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
        common.read(lambda: check_values(pool.get(), make_scope(project(), None, None, new)))
        return common.Json(common.read(lambda: queries.list_runs(pool.get(), run_filter)))

    @api.get(
        "/api/v1/runs/{trace_id}",
        tags=["runs"],
        summary="One run: its span tree, what it re-ran and its re-runs",
        description="`run` is the run's summary; for a re-run (agentreel's re-run mode) it "
        "names the original (`rerun_of`), the call it went live from (`rerun_from_call`, 0 "
        "for a fully offline re-run) and where its requests stopped matching the recording "
        "(`rerun_diverged_at`, `rerun_divergence`), all null for other runs. `reruns` are "
        f"the runs that re-ran this one, newest first (at most {queries.MAX_RERUNS}; "
        "`reruns_total` counts them all).",
    )
    def run(
        trace_id: str,
        spans: Annotated[
            bool,
            Query(
                description="Include the span tree (`spans`). `false` answers the summary and "
                "re-runs alone: what a page that shows the steps needs, a few KB where a big "
                "run's tree is MBs."
            ),
        ] = True,
    ) -> Response:
        trace_id = common.trace_id(trace_id)
        client = pool.get()
        summary = common.read(lambda: queries.run_summary(client, project(), trace_id))
        if summary is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        reruns, total = common.read(lambda: queries.reruns(client, project(), trace_id))
        answer = {"run": summary, "reruns": reruns, "reruns_total": total}
        diverged = summary["rerun_diverged_at"] is not None
        if not (spans or diverged):
            return common.Json(answer)
        stored = common.read(lambda: queries.trace_spans(client, project(), trace_id))
        refs = {r for s in stored for r in _span_refs(s)}
        resolved = common.read(lambda: resolve(client, project(), refs))
        shown = [_span(s, resolved) for s in stored]
        if diverged:
            summary["rerun_divergence"] = _divergence(shown, summary)
        return common.Json({**answer, "spans": _tree(shown)} if spans else answer)

    return api


_ZERO = bytes(16)


def _divergence(spans: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The run's first divergence in full, from the root span that reports it (the run table
    keeps its first ``DIVERGENCE_CHARS``; a long text is stored as content, not in the table)."""
    at = str(summary["rerun_diverged_at"])
    for span in spans:
        attributes = span["attributes"]
        if not span["parent_span_id"] and attributes.get(runtable.DIVERGED_AT_KEY) == at:
            return str(attributes.get(runtable.DIVERGENCE_KEY) or summary["rerun_divergence"])
    return str(summary["rerun_divergence"])


def _span_refs(span: dict[str, Any]) -> list[bytes]:
    refs = [span["tool_arguments_ref"], span["tool_result_ref"], *span["attribute_refs"].values()]
    return [r for r in refs if r and r != _ZERO]


def _attributes(s: dict[str, Any], body: Resolved) -> dict[str, Any]:
    """The span's attributes, large values (stored as content) filled in."""
    attributes = dict(s["attributes"])
    for key, ref in s["attribute_refs"].items():
        attributes[key] = body(ref)
    return attributes


def _content(s: dict[str, Any], _: Resolved) -> dict[str, Any]:
    return {
        "input_messages": len(s["input_refs"]),
        "output_messages": len(s["output_refs"]),
        "system_instructions": s["system_ref"] != _ZERO,
        "tool_definitions": s["tools_ref"] != _ZERO,
    }


def _tool(s: dict[str, Any], body: Resolved) -> dict[str, Any] | None:
    """The tool call of a tool span (or of any span naming a tool); None for the others."""
    if not (s["tool_name"] or s["kind"] == "tool"):
        return None
    tool = {"name": s["tool_name"], "call_id": s["tool_call_id"]}
    if s["tool_arguments_ref"] != _ZERO:
        tool["arguments"] = body(s["tool_arguments_ref"])
    if s["tool_result_ref"] != _ZERO:
        tool["result"] = body(s["tool_result_ref"])
    return tool


Render = Callable[[dict[str, Any], Resolved], Any]

#: API span fields that are not a stored value as it is, and how each is made.
_RENDERED: dict[str, Render] = {
    "start_time": lambda s, _: queries.iso_ns(s["start_time"]),
    "end_time": lambda s, _: queries.iso_ns(s["end_time"]),
    "duration_ms": lambda s, _: max(0, s["end_time"] - s["start_time"]) / 1e6,
    "usage": lambda s, _: queries.usage(s),
    "counted": lambda s, _: bool(s["counted"]),
    "content": _content,
    "attributes": _attributes,
    "events": lambda s, _: queries.parse_json(s["events"]),
    "tool": _tool,
}


def _stored(name: str) -> Render:
    return lambda s, _: s[name]


#: The API's span fields in the order the column table first names them (the tool object,
#: which only tool spans have, last), each with how it is made.
_FIELDS: dict[str, Render] = {
    name: _RENDERED.get(name) or _stored(name)
    for name in sorted(dict.fromkeys(c.api for c in columns.COLUMNS if c.api), key="tool".__eq__)
}


def _span(s: dict[str, Any], body: Resolved) -> dict[str, Any]:
    out = {name: render(s, body) for name, render in _FIELDS.items()}
    if out["tool"] is None:
        del out["tool"]
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
