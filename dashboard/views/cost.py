"""Cost: spend per day by model, agent, user or provider; tokens and cache savings; budget
lines and the month-end projection; the most expensive runs; models without a price."""

from __future__ import annotations

import polars as pl
import streamlit as st

from .. import charts
from ..ui import Context, count, money, money_column, url_pick
from .runs import runs_table

BREAKDOWNS = {"model": "Model", "agent": "Agent", "user": "User", "provider": "Provider"}
TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def render(ctx: Context) -> None:
    by = url_pick(st.segmented_control, "Break down by", "by", BREAKDOWNS, "cost_by")
    rows = charts.frame(ctx.get("/cost/daily", {**ctx.params, "by": by})["rows"])
    if rows.is_empty():
        st.info("No LLM calls in this time range, so no cost to show.")
        return
    overview = ctx.get("/overview", ctx.params)  # its periods carry the budgets too
    month = overview["month"]
    daily_budget, monthly = overview["today"]["budget_usd"], month["budget_usd"]
    total = float(rows["cost_usd"].sum())
    cols = st.columns(5)
    cols[0].metric("Cost in range", money(total))
    cols[1].metric("LLM calls", count(int(rows["llm_calls"].sum())))
    cols[2].metric(
        "Cache savings",
        money(float(rows["cache_savings_usd"].sum())),
        help="What cached input tokens would have cost at the full input price, minus what "
        "they cost.",
    )
    cols[3].metric("Month to date", money(month["cost_usd"]))
    cols[4].metric(
        "Month-end projection",
        money(month.get("projected_usd")),
        help="Month-to-date spend extended at its daily rate.",
    )
    _client_reported(ctx, rows)
    fig = charts.stacked_days(
        rows, "cost_usd", f"Cost per day by {BREAKDOWNS[by].lower()}", money=True
    )
    if daily_budget:
        charts.add_hline(fig, daily_budget, f"daily budget {money(daily_budget)}")
    st.plotly_chart(fig, key="cost_chart")
    projected = month.get("projected_usd")
    if monthly:
        verdict = "over" if (projected or 0) > monthly else "within"
        st.caption(
            f"Monthly budget {money(monthly)}: {money(month['cost_usd'])} spent so far, "
            f"{money(projected)} projected by month end ({verdict} budget)."
        )
    left, right = st.columns([3, 2])
    totals = (
        rows.group_by("key")
        .agg(
            pl.col("cost_usd").sum(),
            pl.col("llm_calls").sum(),
            (pl.col("input_tokens") + pl.col("output_tokens")).sum().alias("tokens"),
            pl.col("cache_savings_usd").sum(),
        )
        .sort(["cost_usd", "key"], descending=[True, False])
        .rename({"key": BREAKDOWNS[by].lower()})
    )
    left.subheader(f"Totals by {BREAKDOWNS[by].lower()}")
    left.dataframe(
        totals,
        hide_index=True,
        column_config={
            "cost_usd": st.column_config.NumberColumn(
                "cost", format=money_column(totals["cost_usd"])
            ),
            "llm_calls": st.column_config.NumberColumn("calls"),
            "tokens": st.column_config.NumberColumn("tokens", format="compact"),
            "cache_savings_usd": st.column_config.NumberColumn(
                "cache saved", format=money_column(totals["cache_savings_usd"])
            ),
        },
        key="cost_totals",
    )
    right.plotly_chart(
        charts.stacked_days(_token_kinds(rows), "tokens", "Tokens per day", color="type"),
        key="cost_tokens",
    )
    st.subheader("Most expensive runs")
    runs_table(ctx, {"sort": "cost", "order": "desc", "limit": 10}, key="cost_runs")
    _unknown_models(ctx)


def _client_reported(ctx: Context, rows: pl.DataFrame) -> None:
    """The tokens and calls instrumented clients reported as OTLP metrics, beside the
    span-derived ones; shown only when some were reported in the range."""
    window = {k: ctx.params.get(k) for k in ("since", "until")}
    reported = ctx.get("/metrics/genai", window)
    if not reported["groups"]:
        return
    from_spans = int(rows["input_tokens"].sum()) + int(rows["output_tokens"].sum())
    from_metrics = int(reported["input_tokens"]) + int(reported["output_tokens"])
    st.metric(
        "Client-reported (OTLP metrics)",
        f"{count(from_metrics)} tokens",
        help="gen_ai.client.token.usage as the clients counted it, in the time range (other "
        f"filters do not apply): {count(int(reported['input_tokens']))} input, "
        f"{count(int(reported['output_tokens']))} output, over "
        f"{count(int(reported['calls']))} timed calls. From spans: {count(from_spans)} tokens.",
    )


def _token_kinds(rows: pl.DataFrame) -> pl.DataFrame:
    """Tokens per day by kind, each counted once: input tokens include cache reads and
    writes and output tokens include reasoning (OTel GenAI), so those are split out."""
    day = rows.group_by("day").agg(pl.col(list(TOKENS)).sum())
    parts = day.select(
        "day",
        (pl.col("input_tokens") - pl.col("cache_read_tokens") - pl.col("cache_write_tokens"))
        .clip(lower_bound=0)
        .alias("input (uncached)"),
        pl.col("cache_read_tokens").alias("cache read"),
        pl.col("cache_write_tokens").alias("cache write"),
        (pl.col("output_tokens") - pl.col("reasoning_tokens")).clip(lower_bound=0).alias("output"),
        pl.col("reasoning_tokens").alias("reasoning"),
    )
    return parts.unpivot(index="day", variable_name="type", value_name="tokens").sort("day")


def _unknown_models(ctx: Context) -> None:
    unknown = ctx.get("/prices/unknown", ctx.params).get("models") or []
    if not unknown:
        return
    names = ", ".join(f"`{m['model']}` ({count(m['llm_calls'])} calls)" for m in unknown[:10])
    st.warning(
        f"**{len(unknown)} model(s) have no price**, so their calls are not in these totals: "
        f"{names}. Add them with a prices file (`AGENTREEL_PRICES_FILE`) or "
        "`PUT /api/v1/prices/overrides`.",
        icon=":material/sell:",
    )
