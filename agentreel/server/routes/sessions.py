"""Sessions: runs that share a session id, listed as one conversation (``/api/v1/sessions``)
and one session's runs in order with their cost, status and scores
(``/api/v1/sessions/{session_id}``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from agentreel.server.routes import common
from agentreel.storage import queries, scores, sessions

_TIME = "ISO 8601 or epoch seconds"


def router(pool: common.Pool, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["sessions"], responses=common.ERRORS)

    @api.get(
        "/sessions",
        summary="Sessions: runs that share a session id, the most recently active first",
        description="A session is every run whose spans carry the same `session.id` or "
        "`gen_ai.conversation.id`. `since`/`until` pick sessions with a run started in the "
        "range, and `service`, `agent`, `user`, `model`, `provider`, `environment` sessions "
        "with a run of that value; a session's figures (`runs`, `failed_runs`, `cost_usd`, "
        "times) cover all its runs.",
    )
    def list_sessions(
        since: Annotated[
            str | None, Query(description=f"A run started at or after: {_TIME}")
        ] = None,
        until: Annotated[str | None, Query(description=f"A run started before: {_TIME}")] = None,
        q: Annotated[str | None, Query(description="Text in the session id")] = None,
        service: str | None = None,
        agent: str | None = None,
        user: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        environment: str | None = None,
        limit: Annotated[int, Query(ge=1, le=sessions.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=queries.MAX_OFFSET)] = 0,
    ) -> Response:
        session_filter = sessions.SessionFilter(
            project=project(),
            since_ns=common.time_param("since", since),
            until_ns=common.time_param("until", until),
            q=q,
            service=service,
            agent=agent,
            user=user,
            model=model,
            provider=provider,
            environment=environment,
            limit=limit,
            offset=offset,
        )
        return common.Json(common.read(lambda: sessions.list_sessions(pool.get(), session_filter)))

    @api.get(
        "/sessions/{session_id:path}",
        summary="One session: its figures and its runs in the order they started, with scores",
        description="`session` is the session's figures; `runs` one page of its runs (oldest "
        "first, as `/api/v1/runs` shows a run, each with its run-level `scores`); `total` "
        "counts them all.",
        responses={404: {"description": "No run carries that session id"}},
    )
    def one_session(
        session_id: Annotated[str, Path(min_length=1, max_length=sessions.MAX_SESSION_CHARS)],
        limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=queries.MAX_OFFSET)] = 0,
    ) -> Response:
        client = pool.get()
        summary = common.read(lambda: sessions.session_summary(client, project(), session_id))
        if summary is None:
            raise HTTPException(404, f"no run has session id {session_id!r}")
        page = common.read(
            lambda: sessions.session_runs(client, project(), session_id, limit, offset)
        )
        ids = [run["trace_id"] for run in page["runs"]]
        found = common.read(lambda: scores.scores_by_run(client, project(), ids))
        for run in page["runs"]:
            run["scores"] = found.get(run["trace_id"], [])
        return common.Json({"session": summary, **page})

    return api
