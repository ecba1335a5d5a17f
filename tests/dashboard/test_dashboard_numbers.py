"""Numbers that must not mislead, rendered with AppTest against a real server whose online
evaluation has not run yet (its first round is an hour away): catch-up said on Quality, drift
of too few choices greyed on Routing, every daily error rate with its n, percent ticks that
are all distinct, one month-end projection on Overview and Cost."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from agentreel.dashboard import charts
from agentreel.dashboard.ui import money, money_column
from agentreel.dashboard.views import routing

from support.dashboard import render
from support.liveserver import RunningServer
from support.sessionruns import SessionRuns


def _figures(at: AppTest) -> list[go.Figure]:
    return [plotly.io.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]


def _array(data: Any) -> list[Any]:
    """A figure's array as a list (the JSON Streamlit sends encodes numbers as base64)."""
    if isinstance(data, dict):
        raw = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = [int(n) for n in str(data.get("shape", len(raw))).split(",")]
        return list(raw.reshape(shape).tolist())
    return list(np.asarray(data).tolist())


def test_quality_says_evaluation_is_catching_up(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = session_runs
    evaluation = server.get("/api/v1/quality/daily")["evaluation"]
    assert evaluation == {"sample_rate": 1.0, "pending_runs": 4}
    at = render(server.url, monkeypatch, page="quality")
    assert any("Evaluating 4 runs…" in box.value for box in at.info)


def test_drift_without_enough_choices_is_grey_and_off_the_line(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = session_runs
    drift = server.get("/api/v1/drift", by="model", window="day")
    thin = [row for row in drift["series"] if not row["enough_data"]]
    assert thin and not drift["flags"]
    at = render(server.url, monkeypatch, page="routing", by="model")
    (figure,) = [f for f in _figures(at) if "PSI" in f.layout.title.text]
    lines = [t for t in figure.data if "lines" in t.mode]
    greyed = [t for t in figure.data if t.mode == "markers"]
    assert not lines  # no day had enough choices on both sides
    assert [day for t in greyed for day in t.x] == [r["window_start"][:10] for r in thin]
    assert all(t.marker.color == routing.THIN["color"] for t in greyed)
    assert all("too few to compare" in t.hovertemplate for t in greyed)


@pytest.mark.parametrize("page", ["overview", "failures"])
def test_every_daily_error_rate_carries_its_n(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    server, _ = session_runs
    at = render(server.url, monkeypatch, page=page)
    (figure,) = [f for f in _figures(at) if f.layout.title.text.startswith("Error rate")]
    (trace,) = figure.data
    assert "of %{customdata[1]} runs" in trace.hovertemplate
    daily = server.get("/api/v1/failures/daily")["rows"]
    shown = _array(trace.customdata)
    assert shown == [[d["failed_runs"], d["runs"]] for d in daily] and shown[-1] == [1, 4]


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(0.018, ".2~%"), (0.004, ".3~%"), (0.25, ".1~%"), (1.0, ".1~%"), (None, ".1~%")],
)
def test_percent_ticks_are_distinct_for_small_rates(top: float | None, ticks: str) -> None:
    """Rates under 2% got ".0%" ticks ("0%, 1%, 1%, 2%"): the axis takes the decimals its
    largest value needs, so every tick step Plotly may pick (1, 2 or 5 times a power of ten,
    4 to 10 ticks) reads apart."""
    fig = go.Figure()
    charts.percent_axis(fig, top)
    assert fig.layout.yaxis.tickformat == ticks
    decimals = int(ticks[1])
    for exponent in range(-6, 1):
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            if top is None or not 4 <= top / step <= 10:
                continue
            labels = [_d3(i * step, decimals) for i in range(int(top / step) + 1)]
            assert len(set(labels)) == len(labels), labels


def _d3(value: float, decimals: int) -> str:
    """d3-format's ".N~%": N decimals of the percentage, trailing zeros dropped."""
    return f"{value * 100:.{decimals}f}".rstrip("0").rstrip(".") + "%"


def test_one_month_end_projection_on_overview_and_cost(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = session_runs
    projected = server.get("/api/v1/overview")["month"]["projected_usd"]
    assert projected and projected > 0
    shown = []
    for page in ("overview", "cost"):
        at = render(server.url, monkeypatch, page=page)
        shown.append({m.label: m.value for m in at.metric}["Month-end projection"])
    assert shown == [money(projected)] * 2


@pytest.mark.parametrize(
    ("amounts", "fmt"),
    [([12.3, 0.000032, 0.0], "$%.6f"), ([5.0, 1.2], "$%.4f"), ([], "$%.4f"), ([0.0042], "$%.4f")],
)
def test_a_money_column_shows_its_smallest_amount(amounts: list[float], fmt: str) -> None:
    """A sub-cent model's cost in the Cost page's totals is not "$0.0000"."""
    assert money_column(amounts) == fmt
    smallest = min((a for a in amounts if a), default=None)
    if smallest is not None:
        assert float(fmt[1:] % smallest) > 0  # two significant digits, not zero
