"""Failures: error rate over time; failures by tool, error type and agent; failing runs with
a link to their replay; steps per run against the 10-step line; escalations to humans."""

from __future__ import annotations

import polars as pl
import streamlit as st

from .. import charts
from ..ui import Context, count, percent, short_time
from .runs import runs_table

#: A daily error rate's n: failed runs of all runs that day.
RUNS_SAMPLE = ("failed_runs", "runs", "runs")
BY = {"tool": "By tool", "error_type": "By error type", "agent": "By agent"}


def render(ctx: Context) -> None:
    daily = charts.frame(ctx.get("/failures/daily", ctx.params)["rows"])
    if daily.is_empty():
        st.info("No runs in this time range.")
        return
    runs, failed = int(daily["runs"].sum()), int(daily["failed_runs"].sum())
    cols = st.columns(4)
    cols[0].metric("Failed runs", count(failed), help=f"of {count(runs)} runs in the range")
    cols[1].metric(
        "Error rate",
        percent(failed / runs if runs else None),
        help=f"{count(failed)} of {count(runs)} runs in the range had an error.",
    )
    cols[2].metric("LLM call errors", count(int(daily["llm_errors"].sum())))
    cols[3].metric("Tool call errors", count(int(daily["tool_errors"].sum())))
    left, right = st.columns(2)
    left.plotly_chart(
        charts.line_days(
            daily,
            "error_rate",
            "Error rate per day (hover: of how many runs)",
            percent=True,
            sample=RUNS_SAMPLE,
        ),
        key="failures_rate",
    )
    errors = daily.unpivot(
        index="day", on=["llm_errors", "tool_errors"], variable_name="where", value_name="errors"
    ).with_columns(
        pl.col("where").replace({"llm_errors": "LLM calls", "tool_errors": "tool calls"})
    )
    right.plotly_chart(
        charts.stacked_days(errors, "errors", "Errors per day", color="where"),
        key="failures_errors",
    )
    for column, (by, title) in zip(st.columns(3), BY.items(), strict=True):
        rows = charts.frame(ctx.get("/failures/by", {**ctx.params, "by": by})["rows"])
        if rows.is_empty():
            column.caption(f"{title}: no errors.")
        else:
            column.plotly_chart(
                charts.hbars(rows.head(10), "key", "errors", f"Errors {title.lower()}"),
                key=f"failures_by_{by}",
            )
    st.subheader("Failing runs")
    runs_table(ctx, {"status": "error", "limit": 20}, key="failures_runs")
    _steps(ctx)
    _escalations(ctx)


def _steps(ctx: Context) -> None:
    hist = ctx.get("/steps/histogram", ctx.params)
    buckets = charts.frame(hist["buckets"])
    st.subheader("Steps per run")
    if buckets.is_empty():
        st.caption("No runs with steps in this time range.")
        return
    limit = hist.get("limit", 10)
    over = hist.get("over_limit", 0)
    total = int(buckets["runs"].sum())
    buckets = buckets.with_columns(
        pl.when(pl.col("steps") > limit)
        .then(pl.lit(f"over {limit} steps"))
        .otherwise(pl.lit(f"within {limit} steps"))
        .alias("where")
    )
    fig = charts.stacked_days(
        buckets.rename({"steps": "day"}), "runs", "Runs by number of steps", color="where"
    )
    fig.update_xaxes(type="linear", title="steps (LLM calls + tool calls + decisions)")
    charts.add_vline(fig, limit + 0.5, f"{limit}-step checkpoint")
    st.plotly_chart(fig, key="failures_steps")
    st.caption(
        f"{count(over)} of {count(total)} runs went past {limit} steps "
        f"({percent(over / total if total else None)}): most production agents need a human "
        "checkpoint within 10 steps."
    )


def _escalations(ctx: Context) -> None:
    rows = ctx.get("/escalations", {**ctx.params, "limit": 50})["rows"]
    st.subheader("Escalations to humans")
    if not rows:
        st.caption("No escalations in this time range.")
        return
    table = [
        {
            "time (UTC)": short_time(r["time"]),
            "agent": r["agent"],
            "reason": r["reason"],
            "to": r["target"],
            "severity": r["severity"],
            "replay": ctx.link(page="runs", run=r["trace_id"]),
        }
        for r in rows
    ]
    st.dataframe(
        charts.frame(table),
        hide_index=True,
        key="failures_escalations",
        column_config={"replay": st.column_config.LinkColumn("replay", display_text="open ↗")},
    )
