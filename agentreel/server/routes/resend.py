"""``POST /api/v1/runs/{trace_id}/llm-calls/{n}/resend``: re-send call N, store the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from agentreel.collector.ingest import Ingest
from agentreel.replay.resend import DEFAULT_TIMEOUT, ResendError, Target, as_run, now_ns, resend
from agentreel.server.routes import common
from agentreel.storage.client import ClientPool


class ResendRequest(BaseModel):
    """Where to send the call. The key is used for this one request and never stored."""

    base_url: str = Field(
        pattern=r"^https?://",
        description="OpenAI-compatible base URL (https://api.openai.com/v1) or Anthropic's "
        "(https://api.anthropic.com)",
    )
    api: Literal["openai", "anthropic"] | None = Field(
        default=None, description="the API to speak; default: the call's provider"
    )
    model: str | None = Field(default=None, description="another model; default: the call's")
    api_key: str | None = None
    timeout: common.Finite = Field(default=DEFAULT_TIMEOUT, gt=0, le=600)


def router(pool: ClientPool, ingest: Ingest, project: Callable[[], str]) -> APIRouter:
    api = APIRouter(tags=["replay"], responses=common.ERRORS)

    @api.post(
        "/api/v1/runs/{trace_id}/llm-calls/{n}/resend",
        summary="Re-send the exact context of call n to a model; store the answer as a new run",
    )
    def resend_call(trace_id: str, n: int, target: ResendRequest) -> Response:
        trace_id = common.trace_id(trace_id)
        call = common.calls_around(pool, project(), trace_id, n, set())[1][n]
        chosen = target.api or call.provider
        if chosen not in ("openai", "anthropic"):
            raise HTTPException(
                400, f"the call's provider is {chosen or 'unknown'}; say api: openai or anthropic"
            )
        spec = Target(chosen, target.base_url, target.model, target.api_key, target.timeout)
        started = now_ns()
        try:
            request, answer = resend(call, spec)
        except ResendError as exc:
            raise HTTPException(502, f"re-send failed, nothing stored: {exc}") from None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        decoded, new_trace = as_run(call, trace_id, spec, request, answer, started, now_ns())
        taken = ingest.take("traces", decoded, project())
        try:
            taken.future.result(60)
        except Exception as exc:
            raise HTTPException(503, f"the answer could not be stored: {exc}") from None
        return common.Json(
            {
                "trace_id": new_trace,
                "replay_of": {"trace_id": trace_id, "span_id": call.span_id, "call": n},
                "request": request,
                "response": answer,
            }
        )

    return api
