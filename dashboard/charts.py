"""Plotly figures from polars frames, with one look across the pages."""

from __future__ import annotations

import math
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

HEIGHT = 320
#: Series colours: distinct, and none of them the red that means "error" on these pages.
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B", "#9D755D", "#BAB0AC"]
#: Step kinds and outcomes get the same colour on every chart.
KIND_COLORS = {
    "llm": "#4C78A8",
    "tool": "#F58518",
    "decision": "#54A24B",
    "escalation": "#B279A2",
    "error": "#E45756",
}


def frame(rows: list[dict[str, Any]] | None) -> pl.DataFrame:
    """Rows of an API answer as a frame; an empty answer gives an empty frame."""
    if not rows:
        return pl.DataFrame()
    return pl.DataFrame(rows, infer_schema_length=None)


def style(fig: go.Figure, title: str, y_title: str = "", money: bool = False) -> go.Figure:
    """The pages' one look. The margins are a minimum: ``automargin`` grows them to fit the
    tick labels (with 10 px fixed, dates under the x axis and the last one at the right edge
    were cut off)."""
    fig.update_layout(
        title=title,
        height=HEIGHT,
        margin={"l": 10, "r": 20, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.2, "title": None},
        yaxis_title=y_title,
        xaxis_title=None,
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if money:
        fig.update_yaxes(tickprefix="$")
    return fig


def stacked_days(
    df: pl.DataFrame,
    value: str,
    title: str,
    *,
    color: str | None = "key",
    money: bool = False,
) -> go.Figure:
    """Bars per day, stacked by ``color``."""
    fig = px.bar(
        df.sort("day") if "day" in df.columns else df,
        x="day",
        y=value,
        color=color if color in df.columns else None,
        color_discrete_sequence=PALETTE,
    )
    fig.update_xaxes(type="category", categoryorder="category ascending")
    return style(fig, title, money=money)


def line_days(
    df: pl.DataFrame,
    value: str,
    title: str,
    *,
    percent: bool = False,
    sample: tuple[str, str, str] | None = None,
) -> go.Figure:
    """A line per day. ``sample`` names the rate's numerator and denominator columns and what
    they count (``("failed_runs", "runs", "runs")``): each point's hover says "3 of 40 runs",
    so no rate is shown without its n."""
    ordered = df.sort("day")
    fig = px.line(ordered, x="day", y=value, markers=True)
    fig.update_xaxes(type="category")
    if percent:
        percent_axis(fig, ordered[value].max() if not ordered.is_empty() else None)
    if sample is not None:
        part, whole, what = sample
        shown = "%{y:.1%}" if percent else "%{y}"
        fig.update_traces(
            customdata=ordered.select(part, whole).to_numpy(),
            hovertemplate=f"%{{x}}: {shown} (%{{customdata[0]}} of %{{customdata[1]}} {what})"
            "<extra></extra>",
        )
    return style(fig, title)


def percent_axis(fig: go.Figure, top: Any) -> None:
    """A 0-based percent axis whose ticks are all distinct: as many decimals as the largest
    value needs (".0%" gave "0%, 1%, 1%, 2%" for rates under 2%), trailing zeros dropped."""
    decimals = 0
    if isinstance(top, int | float) and 0 < top < 1:
        decimals = max(0, 1 - math.floor(math.log10(top * 100)))
    fig.update_yaxes(tickformat=f".{decimals + 1}~%", rangemode="tozero")


def hbars(df: pl.DataFrame, key: str, value: str, title: str) -> go.Figure:
    """Horizontal bars, largest on top."""
    ordered = df.sort(value) if not df.is_empty() else df
    fig = px.bar(ordered, x=value, y=key, orientation="h")
    fig.update_yaxes(type="category", title=None)
    return style(fig, title)


def share_days(df: pl.DataFrame, title: str) -> go.Figure:
    """Each day's choices as shares of 100% (``day``, ``choice``, ``count``)."""
    shares = df.with_columns((pl.col("count") / pl.col("count").sum().over("day")).alias("share"))
    fig = px.bar(
        shares.sort("day"),
        x="day",
        y="share",
        color="choice",
        hover_data=["count"],
        color_discrete_sequence=PALETTE,
    )
    fig.update_xaxes(type="category", categoryorder="category ascending")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return style(fig, title, "share of choices")


def add_hline(fig: go.Figure, y: float, label: str) -> None:
    fig.add_hline(y=y, line_dash="dash", line_color="#E45756", annotation_text=label)


def add_vline(fig: go.Figure, x: float, label: str) -> None:
    fig.add_vline(x=x, line_dash="dash", line_color="#E45756", annotation_text=label)


def gantt(df: pl.DataFrame, title: str) -> go.Figure:
    """Steps as bars on a time axis (``start``, ``end``, ``label``, ``kind``; ``step``, when
    there, is each bar's custom data)."""
    fig = px.timeline(
        df.to_pandas(),
        x_start="start",
        x_end="end",
        y="label",
        color="kind",
        color_discrete_map=KIND_COLORS,
        hover_data=["duration", "cost", "status"],
        # A clicked bar names its step (``selection.points[i].customdata``).
        custom_data=["step"] if "step" in df.columns else None,
    )
    # Steps top to bottom in their order, whatever their kind (colour splits them in traces).
    fig.update_yaxes(
        autorange="reversed", title=None, categoryorder="array", categoryarray=df["label"].to_list()
    )
    height = max(HEIGHT, 28 * df.height + 80)
    return style(fig, title).update_layout(height=height)
