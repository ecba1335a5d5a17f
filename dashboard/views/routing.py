"""Routing: which tool, model or decision option each agent picks, day by day.

A shift in these shares is routing drift: the drift statistics (each day against the day
before) and their flags sit above the charts.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from .. import charts
from ..client import Refused
from ..ui import Context, count, url_pick

#: The shares table fits its column of the page (a wider one scrolled "share" out of sight).
SHARE_COLUMNS = {
    "choice": st.column_config.TextColumn(width=170),
    "count": st.column_config.NumberColumn(width=60),
    "share": st.column_config.ProgressColumn(format="percent", width=100),
}
CHOICES = {"tool": "Tool choice", "model": "Model choice", "decision": "Decision outcome"}


def render(ctx: Context) -> None:
    by = url_pick(st.segmented_control, "Choice", "by", CHOICES, "routing_by")
    rows = charts.frame(ctx.get("/routing", {**ctx.params, "by": by})["rows"])
    if rows.is_empty():
        st.info(
            f"No {CHOICES[by].lower()}s in this time range. Tool and model choices come from "
            "any instrumentor's spans; decisions from `agentreel.decision.*` attributes."
        )
        return
    _drift(ctx, by)
    st.caption(
        "Each bar is one day's choices as shares of 100%: a band that grows or shrinks is "
        "a change in how the agent routes."
    )
    for agent in rows["agent"].unique().sort().to_list():
        mine = rows.filter(pl.col("agent") == agent)
        total = int(mine["count"].sum())
        title = f"{agent or '(no agent)'} · {count(total)} {CHOICES[by].lower()}s"
        left, right = st.columns([3, 2])
        left.plotly_chart(charts.share_days(mine.sort("day"), title), key=f"routing_{by}_{agent}")
        shares = (
            mine.group_by("choice")
            .agg(pl.col("count").sum())
            .with_columns((pl.col("count") / total).alias("share"))
            .sort("count", descending=True)
        )
        right.dataframe(
            shares,
            hide_index=True,
            key=f"routing_table_{by}_{agent}",
            column_config=SHARE_COLUMNS,
        )


def _drift(ctx: Context, by: str) -> None:
    """Drift statistics: each day's choices against the day before (PSI, Jensen–Shannon),
    flags above the threshold with the choices that moved most."""
    params = {k: ctx.params.get(k) for k in ("since", "until", "agent")}
    try:
        drift = ctx.get("/drift", {**params, "by": by, "window": "day"})
    except Refused as exc:
        if exc.status != 404:
            raise
        return
    series = charts.frame(drift["series"])
    st.subheader("Routing drift")
    threshold = drift["threshold"]
    for flag in drift["flags"]:
        moved = ", ".join(
            f"{m['choice']} {m['baseline_share']:.0%} → {m['current_share']:.0%}"
            for m in flag["top_movers"]
        )
        st.warning(
            f"**{flag['agent'] or '(no agent)'}**: {CHOICES[by].lower()} drifted on "
            f"{flag['window_start'][:10]} (PSI {flag['psi']:.2f} > {threshold:g}, "
            f"JS {flag['js']:.2f}; {flag['current_n']} vs {flag['baseline_n']} choices). "
            f"Moved most: {moved}",
            icon=":material/alt_route:",
        )
    if series.is_empty():
        st.caption("Not enough days of choices to compare.")
        return
    if not drift["flags"]:
        st.caption(f"No day's {CHOICES[by].lower()}s drifted past PSI {threshold:g}.")
    series = series.with_columns(pl.col("window_start").str.slice(0, 10).alias("day"))
    fig = drift_figure(series, threshold)
    st.plotly_chart(fig, key=f"routing_drift_{by}")
    st.caption(
        "PSI (population stability index) and Jensen–Shannon divergence compare a day's "
        f"shares with the day before, smoothed for choices seen on one side only. Days with "
        f"fewer than {drift['min_count']} choices on either side are too few to compare: "
        "they are grey hollow points off the lines and never flagged."
    )


#: How a day without enough choices to compare is drawn: apart from the lines, in grey.
THIN = {"color": "#BAB0AC", "symbol": "circle-open", "size": 9}


def drift_figure(series: pl.DataFrame, threshold: float) -> go.Figure:
    """PSI per day and agent. Only days with enough choices on both sides (``enough_data``)
    make the agent's line; the others are grey hollow points off it, their hover saying how
    few choices they rest on, so a first day's large PSI never reads as drift."""
    fig = go.Figure()
    thin = series.filter(~pl.col("enough_data"))
    for i, agent in enumerate(series["agent"].unique().sort().to_list()):
        mine = series.filter(pl.col("enough_data") & (pl.col("agent") == agent)).sort("day")
        if not mine.is_empty():
            fig.add_trace(
                _psi_trace(mine, agent or "(no agent)", "lines+markers", "").update(
                    line={"color": charts.PALETTE[i % len(charts.PALETTE)]}
                )
            )
    if not thin.is_empty():
        fig.add_trace(
            _psi_trace(
                thin, "too few choices to compare", "markers", ", too few to compare"
            ).update(marker=THIN)
        )
    fig.update_xaxes(type="category", categoryorder="category ascending")
    charts.style(fig, "PSI of each day against the day before", "PSI")
    charts.add_hline(fig, threshold, f"drift threshold {threshold:g}")
    return fig


def _psi_trace(rows: pl.DataFrame, name: str, mode: str, note: str) -> go.Scatter:
    return go.Scatter(
        x=rows["day"].to_list(),
        y=rows["psi"].to_list(),
        mode=mode,
        name=name,
        customdata=rows.select("agent", "js", "current_n", "baseline_n").to_numpy(),
        hovertemplate="%{customdata[0]} %{x}: PSI %{y:.2f}, JS %{customdata[1]:.2f} "
        f"(%{{customdata[2]}} vs %{{customdata[3]}} choices){note}<extra></extra>",
    )
