"""Overview: today's and this month's cost against budget, runs, error rate, p95 latency,
open alerts, and the last days at a glance."""

from __future__ import annotations

from typing import Any

import streamlit as st

from .. import charts
from ..ui import Context, count, millis, money, percent
from . import quality
from .failures import RUNS_SAMPLE


def render(ctx: Context) -> None:
    ov = ctx.get("/overview", ctx.params)
    today, month = ov["today"], ov["month"]
    cols = st.columns(5)
    cols[0].metric("Cost today (UTC)", money(today["cost_usd"]), help=_budget_help(today, "daily"))
    cols[1].metric(
        "Cost this month",
        money(month["cost_usd"]),
        help="Month-to-date spend under the non-time filters. " + _budget_help(month, "monthly"),
    )
    cols[2].metric(
        "Month-end projection",
        money(month.get("projected_usd")),
        help="This month's spend so far, extended at its daily rate to the end of the month.",
    )
    cols[3].metric("Runs", count(ov["runs"]), help="Runs started in the selected time range.")
    cols[4].metric(
        "Error rate",
        percent(ov["error_rate"]),
        help=f"{count(ov['failed_runs'])} of {count(ov['runs'])} runs had an error.",
    )
    cols = st.columns(5)
    cols[0].metric("Cost in range", money(ov["cost_usd"]))
    cols[1].metric("p95 run latency", millis(ov["p95_latency_ms"]))
    cols[2].metric("LLM calls", count(ov["llm_calls"]))
    cols[3].metric("Tool calls", count(ov["tool_calls"]))
    cols[4].metric("Failed runs", count(ov["failed_runs"]))
    _budgets(today, month)
    _alerts(ov.get("open_alerts") or [])
    quality.alert_history(ctx)
    left, right = st.columns(2)
    cost = charts.frame(ctx.get("/cost/daily", {**ctx.params, "by": "none"})["rows"])
    if cost.is_empty():
        left.info("No cost in this time range.")
    else:
        left.plotly_chart(
            charts.stacked_days(cost, "cost_usd", "Cost per day (USD)", color=None, money=True),
            key="overview_cost",
        )
    fails = charts.frame(ctx.get("/failures/daily", ctx.params)["rows"])
    if fails.is_empty():
        right.info("No runs in this time range.")
    else:
        right.plotly_chart(
            charts.line_days(
                fails,
                "error_rate",
                "Error rate per day (hover: of how many runs)",
                percent=True,
                sample=RUNS_SAMPLE,
            ),
            key="overview_errors",
        )
    st.markdown(
        f"[Cost details →]({ctx.link(page='cost')}) · "
        f"[What failed →]({ctx.link(page='failures')}) · "
        f"[Failing runs →]({ctx.link(page='runs', status='error')})"
    )


def _budget_help(period: dict[str, Any], which: str) -> str:
    budget = period.get("budget_usd")
    if budget is None:
        return f"No {which} budget set (AGENTREEL_BUDGET_{which.upper()}_USD on the server)."
    return f"{which.capitalize()} budget: {money(budget)}."


def _budgets(today: dict[str, Any], month: dict[str, Any]) -> None:
    shown = False
    for label, period in (("Today", today), ("This month", month)):
        budget = period.get("budget_usd")
        if not budget:
            continue
        shown = True
        spent = period["cost_usd"]
        text = f"{label}: {money(spent)} of {money(budget)} budget ({spent / budget:.0%})"
        st.progress(min(1.0, spent / budget), text=text)
        if spent > budget:
            st.error(
                f"{label}'s spend is over budget by {money(spent - budget)}.",
                icon=":material/savings:",
            )
    projected = month.get("projected_usd")
    budget = month.get("budget_usd")
    if projected is not None and budget and projected > budget:
        st.warning(
            f"At this rate the month ends at {money(projected)}, over its {money(budget)} budget.",
            icon=":material/trending_up:",
        )
    if not shown:
        st.caption(
            "No budget set: set `AGENTREEL_BUDGET_DAILY_USD` / `AGENTREEL_BUDGET_MONTHLY_USD` "
            "on the server to track spend against one."
        )


def _alerts(alerts: list[dict[str, Any]]) -> None:
    if not alerts:
        st.caption("No open alerts.")
        return
    st.subheader(f"Open alerts ({len(alerts)})")
    for alert in alerts:
        name = alert.get("name") or alert.get("rule") or "alert"
        message = alert.get("message") or alert.get("summary") or ""
        st.warning(f"**{name}** {message}", icon=":material/notifications_active:")
