"""REST routes of the replay engine (``/api/v1/runs/{trace_id}/...``): a run's LLM calls with
their exact windows (all, or one), its timeline, the context diff between two consecutive LLM
calls (or of every call, in one answer), the diff of two runs, and the run as a re-run's
recording (its *case*, :mod:`agentreel.core.cases`).

Calls are numbered from 1 in start order; steps are the rows of the timeline (LLM calls, tool
calls, decisions, escalations), numbered from 1 as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from agentreel.replay.cases import build_case
from agentreel.replay.diff import context_diff, context_diffs
from agentreel.replay.model import LLMCall
from agentreel.replay.render import FORMATS, render
from agentreel.replay.rundiff import run_diff
from agentreel.replay.timeline import RunData, build_timeline, load_run
from agentreel.replay.windows import llm_calls
from agentreel.server.routes import common
from agentreel.server.routes.replay_json import call_json, rendered_json, timeline_json
from agentreel.server.routes.runcache import RunCache


def router(pool: common.Pool, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)
    # A run's timeline and diffs, kept while its stored data stays the same (runcache.py).
    cache = RunCache(pool)

    def run_of(trace_id: str, which: str = "run") -> RunData:
        run: RunData | None = common.read(lambda: load_run(pool.get(), project(), trace_id))
        if run is None:
            raise HTTPException(404, f"no {which} with trace id {trace_id}")
        return run

    @api.get(
        "/api/v1/runs/{trace_id}/timeline",
        tags=["replay"],
        summary="The run's steps in order: LLM calls, tool calls, decisions, escalations",
        description="A step is a row of the timeline, numbered from 1; an LLM step names its "
        "call (`llm.call`, LLM calls numbered apart from 1). `counts` counts the steps per "
        "kind; `step_count` the work steps (LLM calls, tool calls, decisions: escalations "
        "are steps but not counted).",
    )
    def timeline(trace_id: str) -> Response:
        trace_id = common.trace_id(trace_id)
        return cache.answer(
            "timeline", project(), trace_id, lambda: timeline_json(build_timeline(run_of(trace_id)))
        )

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls",
        tags=["replay"],
        summary="The run's LLM calls in start order, each with its exact context window",
    )
    def calls(trace_id: str, format: FormatParam = "otel") -> Response:
        _check_format(format)
        trace_id = common.trace_id(trace_id)
        result = common.read(lambda: llm_calls(pool.get(), project(), trace_id))
        if result is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        answer = [_call_answer(call, format) for call in result]
        return common.Json({"trace_id": trace_id, "format": format, "llm_calls": answer})

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls/diffs",
        tags=["replay"],
        summary="How each LLM call's context window differs from the call before it, for "
        "every call of the run in one answer",
        description="`diffs[i]` is what `/llm-calls/{i+1}/diff` answers (without `trace_id`); "
        "`llm_calls` counts the run's LLM calls (calls are numbered from 1; steps are the "
        "rows of `/timeline`).",
    )
    def call_diffs(trace_id: str) -> Response:
        trace_id = common.trace_id(trace_id)

        def build() -> dict[str, Any]:
            calls = common.read(lambda: llm_calls(pool.get(), project(), trace_id))
            if calls is None:
                raise HTTPException(404, f"no run with trace id {trace_id}")
            return {"trace_id": trace_id, "llm_calls": len(calls), "diffs": context_diffs(calls)}

        return cache.answer("diffs", project(), trace_id, build)

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls/{n}",
        tags=["replay"],
        summary="LLM call n of the run (n from 1) with its exact context window",
        description="What `/llm-calls` answers for that one call, with `call` (n) and `of` "
        "(how many LLM calls the run has). Only this "
        "call's content is read: the way to page through a long run.",
    )
    def one_call(trace_id: str, n: int, format: FormatParam = "otel") -> Response:
        _check_format(format)
        trace_id = common.trace_id(trace_id)
        total, calls = common.calls_around(pool, project(), trace_id, n, set())
        answer = {"trace_id": trace_id, "format": format, "call": n, "of": total}
        return common.Json({**answer, **_call_answer(calls[n], format)})

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls/{n}/diff",
        tags=["replay"],
        summary="How LLM call n's context window differs from call n-1's (n from 1)",
    )
    def call_diff(trace_id: str, n: int) -> Response:
        trace_id = common.trace_id(trace_id)
        _, calls = common.calls_around(pool, project(), trace_id, n, {n - 1})
        previous = calls.get(n - 1)
        return common.Json({"trace_id": trace_id, **context_diff(previous, calls[n], n)})

    @api.get(
        "/api/v1/runs/{trace_id}/diff",
        tags=["replay"],
        summary="Align the steps of two runs and name where they first diverge",
    )
    def runs_diff(
        trace_id: str,
        against: Annotated[str, Query(description="trace id of the run to compare with")],
    ) -> Response:
        run = run_of(common.trace_id(trace_id))
        other = run_of(common.trace_id(against), "run to compare against")
        return common.Json(run_diff(build_timeline(run), build_timeline(other)))

    @api.get(
        "/api/v1/runs/{trace_id}/case",
        tags=["replay"],
        summary="The run as a re-run serves it: its LLM calls and tool results, checksummed "
        "(what `agentreel pin` writes)",
    )
    def case(
        trace_id: str,
        name: Annotated[
            str | None, Query(max_length=200, description="The case's name (default run-<id>)")
        ] = None,
        command: Annotated[
            str | None,
            Query(max_length=2000, description="What runs the agent (`python agent.py`)"),
        ] = None,
    ) -> Response:
        trace_id = common.trace_id(trace_id)
        document = common.read(
            lambda: build_case(pool.get(), project(), trace_id, name=name, command=command)
        )
        if document is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        return common.Json(document)

    return api


FormatParam = Annotated[
    str,
    Query(
        description="otel (canonical OTel GenAI messages), openai (a Chat Completions "
        "request body) or anthropic (a Messages API request body)"
    ),
]


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise HTTPException(400, f"format must be one of {', '.join(FORMATS)}")


def _call_answer(call: LLMCall, format: str) -> dict[str, Any]:
    if format == "otel":
        return call_json(call)
    return rendered_json(render(call, format))
