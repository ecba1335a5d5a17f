"""REST routes of the replay engine: a run's timeline, the context diff between two
consecutive LLM calls, the diff of two runs, and the run as a re-run's recording (its *case*,
:mod:`agentreel.core.cases`) (``/api/v1/runs/{trace_id}/...``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from agentreel.replay.cases import build_case
from agentreel.replay.diff import context_diff
from agentreel.replay.rundiff import run_diff
from agentreel.replay.timeline import RunData, build_timeline, load_run
from agentreel.replay.windows import llm_calls
from agentreel.server.routes import common
from agentreel.server.routes.replay_json import timeline_json


def router(pool: common.Pool, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)

    def run_of(trace_id: str, which: str = "run") -> RunData:
        run: RunData | None = common.read(lambda: load_run(pool.get(), project(), trace_id))
        if run is None:
            raise HTTPException(404, f"no {which} with trace id {trace_id}")
        return run

    @api.get(
        "/api/v1/runs/{trace_id}/timeline",
        tags=["replay"],
        summary="The run's steps in order: LLM calls, tool calls, decisions, escalations",
    )
    def timeline(trace_id: str) -> Response:
        return common.Json(timeline_json(build_timeline(run_of(common.trace_id(trace_id)))))

    @api.get(
        "/api/v1/runs/{trace_id}/llm-calls/{n}/diff",
        tags=["replay"],
        summary="How LLM call n's context window differs from call n-1's (n from 1)",
    )
    def call_diff(trace_id: str, n: int) -> Response:
        trace_id = common.trace_id(trace_id)
        calls = common.read(lambda: llm_calls(pool.get(), project(), trace_id))
        if calls is None:
            raise HTTPException(404, f"no run with trace id {trace_id}")
        if not 1 <= n <= len(calls):
            have = f"calls 1 to {len(calls)}" if calls else "no LLM calls"
            raise HTTPException(404, f"run {trace_id} has no LLM call {n} (it has {have})")
        previous = calls[n - 2] if n > 1 else None
        return common.Json({"trace_id": trace_id, **context_diff(previous, calls[n - 1], n)})

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
