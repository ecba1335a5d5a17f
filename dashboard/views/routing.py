"""Routing: which tool, model or decision option each agent picks, day by day.

A shift in these shares is routing drift; the drift statistics (against a baseline) arrive
with the quality work, which extends this module.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from .. import charts
from ..ui import Context, count, url_pick

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
    st.caption(
        "Each bar is one day's choices as shares of 100%: a band that grows or shrinks is "
        "a change in how the agent routes."
    )
    for agent in rows["agent"].unique().sort().to_list():
        mine = rows.filter(pl.col("agent") == agent)
        total = int(mine["count"].sum())
        title = f"{agent or '(no agent)'} · {count(total)} {CHOICES[by].lower()}s"
        left, right = st.columns([5, 2])
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
            column_config={"share": st.column_config.ProgressColumn(format="percent")},
        )
