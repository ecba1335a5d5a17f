"""Quality: the hallucination rate with how many runs were evaluated, score trends, user
corrections, the runs that were flagged, and alert history (``GET /api/v1/quality/daily``,
``GET /api/v1/alerts/history``)."""

from __future__ import annotations

from typing import Any

import plotly.express as px
import polars as pl
import streamlit as st

from .. import charts
from ..client import Refused
from ..ui import Context, count, percent, short_time

SCORE_SNIPPET = """\
span.add_event("gen_ai.evaluation.result", {
    "gen_ai.evaluation.name": "helpfulness",
    "gen_ai.evaluation.score.value": 0.9,
    "agentreel.score.source": "llm_judge",   # or human, user_feedback, heuristic
})"""


def render(ctx: Context) -> None:
    try:
        data = ctx.get("/quality/daily", ctx.params)
    except Refused as exc:
        if exc.status != 404:
            raise
        st.info("This server does not serve quality scores (`GET /api/v1/quality/daily`).")
        return
    halluc = data["hallucination"]
    _catching_up(data.get("evaluation") or {})
    _hallucination(ctx, halluc)
    _scores(data["scores"])
    _corrections(data["corrections"])
    if not halluc["daily"] and not data["scores"]:
        st.markdown(
            "No scores in this time range. The server evaluates finished runs on its own "
            "(groundedness, rule checks; `AGENTREEL_EVAL_SAMPLE_RATE`), `agentreel eval` "
            "evaluates on demand, and scores travel with your spans as OpenTelemetry GenAI "
            "evaluation events (a run is scored on its root span):"
        )
        st.code(SCORE_SNIPPET, language="python")


def _catching_up(evaluation: dict[str, Any]) -> None:
    """Say when the server's online evaluation has runs still to score: until it has, the
    rates below move (a fresh server evaluates its first runs a minute after they arrive)."""
    pending = int(evaluation.get("pending_runs") or 0)
    rate = float(evaluation.get("sample_rate") or 0)
    if pending:
        runs = "run" if pending == 1 else "runs"
        st.info(
            f"**Evaluating {count(pending)} {runs}…** The server scores finished runs in the "
            "background; until it has caught up, the rates and counts below still change.",
            icon=":material/hourglass_top:",
        )
    elif rate <= 0:
        st.caption(
            "Online evaluation is off (`AGENTREEL_EVAL_SAMPLE_RATE=0`): only scores sent with "
            "spans, `POST /api/v1/scores` and `agentreel eval` appear here."
        )
    elif rate < 1:
        st.caption(f"The server evaluates {percent(rate)} of finished runs (a fixed sample).")


def _hallucination(ctx: Context, halluc: dict[str, Any]) -> None:
    st.subheader("Hallucination rate")
    daily = charts.frame(halluc["daily"])
    if daily.is_empty():
        st.caption("No run evaluated for groundedness in this time range.")
        return
    evaluated, flagged = int(daily["evaluated"].sum()), int(daily["flagged"].sum())
    unchecked = int(daily["unchecked"].sum()) if "unchecked" in daily.columns else 0
    seen = evaluated + unchecked
    cols = st.columns(4)
    cols[0].metric(
        "Hallucination rate",
        percent(flagged / evaluated if evaluated else None),
        help="Flagged runs over checked runs: runs with nothing checkable are not in it.",
    )
    cols[1].metric("Runs checked (n)", count(evaluated))
    cols[2].metric("Runs flagged", count(flagged))
    cols[3].metric(
        "Unchecked",
        percent(unchecked / seen if seen else None),
        help=f"{count(unchecked)} of {count(seen)} evaluated runs had no number, date, name, "
        "id or status to check: they neither pass nor count in the rate.",
    )
    _detector(halluc.get("detector"))
    fig = charts.line_days(
        daily,
        "rate",
        "Share of checked runs flagged, per day (hover: of how many)",
        percent=True,
        sample=("flagged", "evaluated", "checked runs"),
    )
    st.plotly_chart(fig, key="quality_hallucination")
    st.caption(
        "A run counts as checked when a groundedness check, the LLM judge or a "
        f"hallucination detector ({', '.join(halluc['scores'])}) judged it, or a user "
        "corrected it; flagged when one of them failed it (a person's verdict decides alone). "
        "Few checked runs make a day's rate noisy: see the counts."
    )
    rows = charts.frame(halluc["rows"])
    if not rows.is_empty():
        by = (
            rows.group_by("agent", "model")
            .agg(pl.col("evaluated").sum(), pl.col("flagged").sum(), pl.col("unchecked").sum())
            .with_columns((pl.col("flagged") / pl.col("evaluated")).alias("rate"))
            .sort("rate", descending=True)
        )
        st.dataframe(
            by,
            hide_index=True,
            key="quality_by_agent_model",
            column_config={"rate": st.column_config.ProgressColumn(format="percent")},
        )
    flagged_runs = halluc["flagged_runs"]
    if flagged_runs:
        st.markdown(f"**Flagged runs** ({len(flagged_runs)} most recent)")
        st.dataframe(
            charts.frame(
                [
                    {
                        "started (UTC)": short_time(r["start_time"]),
                        "agent": r["agent"],
                        "models": ", ".join(r["models"]),
                        "flagged by": ", ".join(r["by"]),
                        "replay": ctx.link(page="runs", run=r["trace_id"]),
                    }
                    for r in flagged_runs
                ]
            ),
            hide_index=True,
            key="quality_flagged",
            column_config={"replay": st.column_config.LinkColumn("replay", display_text="open ↗")},
        )


def _detector(detector: dict[str, Any] | None) -> None:
    """How far the rate can be trusted: the model-free check's precision and recall as
    measured on the labelled set (``bench/groundedness.py``)."""
    if not detector or detector.get("precision") is None:
        st.caption(
            "The groundedness check's precision and recall have not been measured "
            "(`bench/groundedness.py --write`): read the rate as a rough signal."
        )
        return
    st.caption(
        f"**How sure this is:** the model-free groundedness check flags "
        f"{percent(detector['recall'])} of hallucinated answers (recall) and "
        f"{percent(detector['precision'])} of its flags are right (precision), measured on "
        f"{count(detector['n'])} hand-labelled answers ({detector['set']} set, "
        f"{detector.get('measured') or 'undated'}). If your answers are like those, a flagged "
        "rate r means a true rate near r × precision ÷ recall (wrong flags taken out, missed "
        "hallucinations added back)."
    )


def _scores(rows: list[dict[str, Any]]) -> None:
    st.subheader("Scores")
    scores = charts.frame(rows)
    numeric = scores.filter(pl.col("mean").is_not_null()) if not scores.is_empty() else scores
    if numeric.is_empty():
        st.caption("No numeric or true/false scores in this time range.")
        return
    numeric = numeric.with_columns((pl.col("name") + " (" + pl.col("source") + ")").alias("score"))
    fig = px.line(
        numeric.to_pandas(), x="day", y="mean", color="score", markers=True, hover_data=["count"]
    )
    fig.update_xaxes(type="category")
    charts.style(fig, "Mean score per day (hover: how many scores)")
    st.plotly_chart(fig, key="quality_scores")
    totals = numeric.group_by("score").agg(pl.col("count").sum()).sort("count", descending=True)
    st.caption(
        "Scores per name and source in this range: "
        + ", ".join(f"{r['score']} {count(r['count'])}" for r in totals.iter_rows(named=True))
    )


def _corrections(rows: list[dict[str, Any]]) -> None:
    corrections = charts.frame(rows)
    if corrections.is_empty():
        return
    st.subheader("User corrections")
    st.plotly_chart(
        charts.stacked_days(corrections, "corrections", "Corrections per day", color=None),
        key="quality_corrections",
    )


def alert_history(ctx: Context) -> None:
    """Recent alert events (fired, delivered, resolved), for the Overview page."""
    try:
        events = ctx.get("/alerts/history", {"limit": 20})["events"]
    except Refused:
        return
    with st.expander(f"Alert history ({len(events)} most recent events)", expanded=False):
        if not events:
            st.caption("No alert has fired. Rules: `AGENTREEL_ALERTS_FILE` or `/api/v1/alerts`.")
            return
        st.dataframe(
            charts.frame(
                [
                    {
                        "time (UTC)": short_time(e["time"]),
                        "rule": e["rule"],
                        "state": e["state"],
                        "message": e["message"],
                        "delivery": e["delivery"],
                    }
                    for e in events
                ]
            ),
            hide_index=True,
            key="overview_alert_history",
        )
