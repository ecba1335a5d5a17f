"""REST routes of quality signals: scores in (``POST /api/v1/scores``), a run's scores,
on-demand evaluation, the daily quality rollups and routing drift."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response

from agentreel.core.scores import ScoreError, parse_score
from agentreel.server.routes import common
from agentreel.signals import drift as drift_math
from agentreel.signals import report
from agentreel.signals.evaluators import (
    EVALUATORS,
    HALLUCINATION_SCORES,
    decide,
    evaluate_run,
    hallucination,
)
from agentreel.signals.groundedness import measured_quality
from agentreel.signals.judge import Judge
from agentreel.storage import scores as score_store

#: Most entries one ``POST /api/v1/scores`` takes, and runs one ``POST /api/v1/eval``.
MAX_BATCH = 1000
MAX_EVAL_RUNS = 200
WINDOWS = {"hour": 3600, "day": 86400}


def router(
    pool: common.Pool,
    project: Callable[[], str],
    judge: Callable[[], Judge | None],
    budgets: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0),
    evaluation: Callable[[str], tuple[float, int]] = lambda _: (0.0, 0),
) -> APIRouter:
    api = APIRouter(responses=common.ERRORS)

    @api.get(
        "/api/v1/report/daily",
        tags=["quality"],
        summary="One UTC day: cost vs budget, top agents/models, failures, drift, "
        "hallucination rate, escalations",
        responses={
            200: {
                "description": "The report: JSON, or text/Markdown with format=text|markdown",
                "content": {"application/json": {}, "text/plain": {}},
            }
        },
    )
    def daily_report(
        day: Annotated[str | None, Query(description="YYYY-MM-DD (UTC); default today")] = None,
        format: Literal["json", "text", "markdown"] = "json",
    ) -> Response:
        try:
            when = date.fromisoformat(day) if day else datetime.now(UTC).date()
        except ValueError:
            raise HTTPException(400, "day must be a date such as 2026-11-21") from None
        found = common.read(lambda: report.build(pool.get(), project(), when, budgets()))
        if format == "json":
            return common.Json(found)
        return PlainTextResponse(report.render(found, markdown=format == "markdown"))

    @api.post(
        "/api/v1/scores",
        tags=["quality"],
        summary="Store scores (batch): per run or span; numeric, boolean or categorical",
    )
    def post_scores(entries: Annotated[Any, Body()]) -> Response:
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise HTTPException(400, "the body is a score object or a list of them")
        if len(entries) > MAX_BATCH:
            raise HTTPException(400, f"at most {MAX_BATCH} scores per request")
        parsed, rejected = [], []
        for index, entry in enumerate(entries):
            try:
                parsed.append((index, parse_score(entry)))
            except ScoreError as exc:
                rejected.append({"index": index, "error": str(exc)})
        client = pool.get()
        known, spans = common.read(
            lambda: score_store.stored(
                client, project(), [(s.trace_id, s.span_id) for _, s in parsed]
            )
        )
        accepted = []
        for index, score in parsed:
            if score.trace_id not in known:
                rejected.append({"index": index, "error": f"trace_id: no run {score.trace_id}"})
            elif score.span_id and (score.trace_id, score.span_id) not in spans:
                error = f"span_id: no span {score.span_id} in run {score.trace_id}"
                rejected.append({"index": index, "error": error})
            else:
                accepted.append(score)
        rows = [s.row(project()) for s in accepted]
        common.read(lambda: score_store.insert(client, rows))
        rejected.sort(key=lambda r: int(str(r["index"])))
        return common.Json(
            {"accepted": len(accepted), "ids": [s.score_id for s in accepted], "rejected": rejected}
        )

    @api.get("/api/v1/runs/{trace_id}/scores", tags=["quality"], summary="A run's scores")
    def run_scores(trace_id: str) -> Response:
        trace_id = common.trace_id(trace_id)
        scores = common.read(lambda: score_store.run_scores(pool.get(), project(), trace_id))
        return common.Json({"scores": scores, "hallucination": decide(scores)})

    @api.post(
        "/api/v1/eval",
        tags=["quality"],
        summary="Evaluate runs now (groundedness, judge, rule checks); stores the scores",
    )
    def evaluate(
        trace_ids: Annotated[list[str], Body(max_length=MAX_EVAL_RUNS)],
        evaluators: Annotated[list[str] | None, Body()] = None,
    ) -> Response:
        names = evaluators or list(EVALUATORS)
        unknown = sorted(set(names) - set(EVALUATORS))
        if unknown:
            raise HTTPException(
                400, f"evaluators: unknown {unknown[0]!r}; known: {', '.join(EVALUATORS)}"
            )
        ids = [common.trace_id(t) for t in trace_ids]
        client, the_judge = pool.get(), judge()
        if "judge" in (evaluators or []) and the_judge is None:
            raise HTTPException(400, "evaluators: the judge is off (set AGENTREEL_JUDGE_URL)")
        results, errors = [], []
        now_ms = int(time.time() * 1000)
        for trace_id in ids:
            found = common.read(
                partial(evaluate_run, client, project(), trace_id, names, the_judge, now_ms)
            )
            if found is None:
                errors.append(f"{trace_id}: no such run")
                continue
            rows = [s.row(project()) for s in found.scores]
            common.read(partial(score_store.insert, client, rows))
            errors.extend(found.errors)
            results.append(
                {
                    "trace_id": trace_id,
                    "scores": [
                        {"name": s.name, "value": s.value, "label": s.label,
                         "explanation": s.explanation}
                        for s in found.scores
                    ],
                }
            )  # fmt: skip
        return common.Json({"evaluated": len(results), "runs": results, "errors": errors})

    @api.get(
        "/api/v1/quality/daily",
        tags=["quality"],
        summary="Score trends, hallucination rate and corrections per day, with sample sizes",
        description="`evaluation` says how far the server's online evaluation has come: its "
        "`sample_rate` and `pending_runs`, the project's runs in the sample it has not "
        "evaluated yet (rates move while it is above 0; runs still receiving spans count).",
    )
    def quality_daily(
        since: str | None = None,
        until: str | None = None,
        agent: str | None = None,
        model: str | None = None,
    ) -> Response:
        since_ns, until_ns = common.time_range(since, until)
        client = pool.get()
        halluc = common.read(
            lambda: hallucination(client, project(), since_ns, until_ns, agent, model)
        )
        trends = common.read(
            lambda: score_store.score_trends(client, project(), since_ns, until_ns, agent, model)
        )
        rate, pending = common.read(lambda: evaluation(project()))
        return common.Json(
            {
                "hallucination": {
                    "scores": list(HALLUCINATION_SCORES),
                    **halluc,
                    "detector": measured_quality(),
                },
                **trends,
                "evaluation": {"sample_rate": rate, "pending_runs": pending},
            }
        )

    @api.get(
        "/api/v1/drift",
        tags=["quality"],
        summary="Routing drift per agent: PSI and Jensen–Shannon against a baseline window",
    )
    def drift(
        by: Literal["tool", "model", "decision"] = "tool",
        window: Literal["hour", "day"] = "day",
        since: str | None = None,
        until: str | None = None,
        agent: str | None = None,
        baseline: Annotated[
            str,
            Query(description="'previous' (the window before each one) or a pinned range "
                  "'<since>/<until>' (ISO 8601 or epoch seconds)"),
        ] = "previous",
        threshold: Annotated[common.Finite, Query(gt=0)] = drift_math.DEFAULT_THRESHOLD,
        min_count: Annotated[int, Query(ge=1, le=1_000_000_000)] = drift_math.DEFAULT_MIN_COUNT,
        positions: bool = False,
    ) -> Response:  # fmt: skip
        return common.Json(
            drift_report(
                pool.get(),
                project(),
                by,
                window,
                since,
                until,
                agent,
                baseline,
                threshold,
                min_count,
                positions,
            )
        )

    return api


def drift_report(
    client: Any,
    project: str,
    by: str,
    window: str,
    since: str | None,
    until: str | None,
    agent: str | None = None,
    baseline: str = "previous",
    threshold: float = drift_math.DEFAULT_THRESHOLD,
    min_count: int = drift_math.DEFAULT_MIN_COUNT,
    positions: bool = False,
) -> dict[str, Any]:
    """``GET /api/v1/drift``: parse the parameters, then :func:`drift_math.report`."""
    since_ns, until_ns = common.time_range(since, until)
    pinned = None
    if baseline != "previous":
        low, sep, high = baseline.partition("/")
        b_since, b_until = common.time_param("baseline", low), common.time_param("baseline", high)
        if not sep or b_since is None or b_until is None or b_until <= b_since:
            raise HTTPException(
                400, "baseline must be 'previous' or '<since>/<until>' with until after since"
            )
        pinned = (b_since, b_until)
    found = common.read(
        lambda: drift_math.report(
            client, project, by, WINDOWS[window], since_ns, until_ns, agent=agent,
            pinned_ns=pinned, threshold=threshold, min_count=min_count, positions=positions,
        )
    )  # fmt: skip
    return {"window": window, "baseline": baseline, **found}
