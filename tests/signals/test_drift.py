"""Routing drift on synthetic data with a known shift at a known time: flagged in the window
that contains it, not in stable windows; PSI/JS math on known distributions."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest

from agentreel.signals.drift import compare
from agentreel.signals.drift import report as drift_report

from support.qualityruns import Run, write

DAY = 86_400
STABLE = {"search": 0.6, "lookup": 0.3, "calc": 0.1}
SHIFTED = {"search": 0.2, "lookup": 0.3, "calc": 0.1, "web": 0.4}
SHIFT_DAY = 6
PER_DAY = 300


def test_psi_and_js_of_known_distributions() -> None:
    same = compare({"a": 50, "b": 50}, {"a": 500, "b": 500})
    assert same.psi == pytest.approx(0, abs=1e-3) and same.js == pytest.approx(0, abs=1e-3)
    moved = compare({"a": 900, "b": 100}, {"a": 100, "b": 900})
    # PSI = Σ (q-p)·ln(q/p) = 2 · 0.8 · ln 9 on these shares (smoothing changes little).
    assert moved.psi == pytest.approx(2 * 0.8 * math.log(9), rel=0.01)
    assert 0.5 < moved.js <= 1
    unseen = compare({"a": 100}, {"a": 50, "new": 50})  # smoothing: finite, large
    assert math.isfinite(unseen.psi) and unseen.psi > 1
    assert unseen.movers[0]["choice"] in ("a", "new")
    assert {m["choice"] for m in unseen.movers} == {"a", "new"}


@pytest.fixture(scope="module")
def shifted(store: Any) -> tuple[str, int]:
    """8 days of 300 runs a day for agent ``router``, tools drawn at random from a mix that
    changes at the start of day 6. Another agent draws from the stable mix throughout."""
    rng = random.Random(7)
    project = "drift-test"
    day0 = (int(time.time()) // DAY - 8) * DAY
    runs = []
    for day in range(8):
        for i in range(PER_DAY):
            mix = SHIFTED if day >= SHIFT_DAY else STABLE
            tool = rng.choices(list(mix), weights=list(mix.values()))[0]
            start = (day0 + day * DAY + i * 280) * 10**9
            runs.append(Run(agent="router", tools=[(tool, "ok")], answer=None, start_ns=start))
            steady = rng.choices(list(STABLE), weights=list(STABLE.values()))[0]
            runs.append(Run(agent="steady", tools=[(steady, "ok")], answer=None, start_ns=start))
    write(store, project, runs)
    return project, day0


def test_shift_is_flagged_in_its_window_only(store: Any, shifted: tuple[str, int]) -> None:
    project, day0 = shifted
    found = drift_report(
        store, project, "tool", DAY, (day0 + DAY) * 10**9, (day0 + 8 * DAY) * 10**9
    )
    router = [r for r in found["series"] if r["agent"] == "router"]
    assert len(router) == 7  # days 1..7, each against the day before
    flagged_days = [(int(_epoch(r["window_start"])) - day0) // DAY for r in router if r["flagged"]]
    assert flagged_days == [SHIFT_DAY]
    shift = router[SHIFT_DAY - 1]
    assert shift["psi"] > 0.2 and shift["current_n"] == PER_DAY == shift["baseline_n"]
    assert shift["top_movers"][0]["choice"] == "web"
    assert shift["top_movers"][0]["baseline_share"] == 0
    steady = [r for r in found["series"] if r["agent"] == "steady"]
    assert steady and not any(r["flagged"] for r in steady)
    assert {(f["agent"], f["window_start"]) for f in found["flags"]} == {
        ("router", shift["window_start"])
    }


def test_pinned_baseline_flags_every_window_after_the_shift(
    store: Any, shifted: tuple[str, int]
) -> None:
    project, day0 = shifted
    found = drift_report(
        store, project, "tool", DAY, (day0 + 3 * DAY) * 10**9, (day0 + 8 * DAY) * 10**9,
        agent="router", pinned_ns=(day0 * 10**9, (day0 + 3 * DAY) * 10**9),
    )  # fmt: skip
    flagged = [
        (int(_epoch(r["window_start"])) - day0) // DAY for r in found["series"] if r["flagged"]
    ]
    assert flagged == [6, 7]


def test_small_samples_are_not_flagged(store: Any, shifted: tuple[str, int]) -> None:
    project, day0 = shifted
    # Hourly windows hold 12 or 13 runs each: a shift at hour 0 of day 6 is too few to call drift.
    found = drift_report(
        store, project, "tool", 3600, (day0 + SHIFT_DAY * DAY - 3600) * 10**9,
        (day0 + SHIFT_DAY * DAY + 3600) * 10**9, agent="router",
    )  # fmt: skip
    assert found["series"] and not found["flags"]
    assert all(not r["enough_data"] for r in found["series"])


def test_drift_endpoint(server) -> None:
    import httpx

    answer = httpx.get(server.url + "/api/v1/drift", params={"by": "model", "window": "hour"})
    assert answer.status_code == 200 and answer.json()["by"] == "model"
    bad = httpx.get(server.url + "/api/v1/drift", params={"baseline": "yesterday"})
    assert bad.status_code == 400 and "baseline" in bad.json()["detail"]
    bad = httpx.get(server.url + "/api/v1/drift", params={"since": "soon"})
    assert bad.status_code == 400 and "since" in bad.json()["detail"]


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_chance_moves_in_small_windows_are_not_flags() -> None:
    # PSI above 0.2 from 30 choices a side, but well within chance: not significant.
    small = compare({"a": 20, "b": 10}, {"a": 13, "b": 17})  # chi-square 3.3 < 6.6
    assert small.psi > 0.2 and not small.significant
    large = compare({"a": 200, "b": 100}, {"a": 130, "b": 170})
    assert large.significant


def test_drift_alert_fires_once_for_the_shifted_day(store: Any, shifted: tuple[str, int]) -> None:
    from agentreel.signals.alerting import Alerts
    from agentreel.signals.rules import parse_rule

    from support.store import StorePool

    project, day0 = shifted
    rule = parse_rule({"name": "tools", "metric": "drift_psi", "threshold": 0.2, "window": "3d"})
    alerts = Alerts(StorePool(store), project, [rule], clock=lambda: day0 + 8 * DAY - 1)
    try:
        [event] = alerts.check(project)
        day = time.strftime("%Y-%m-%d", time.gmtime(day0 + SHIFT_DAY * DAY))
        assert event["key"] == f"router@{day}" and event["value"] > 0.2
        assert "web 0%→" in event["message"]
        assert alerts.check(project) == []
    finally:
        alerts.close()


def test_per_step_position(store: Any, shifted: tuple[str, int]) -> None:
    project, day0 = shifted
    found = drift_report(
        store, project, "tool", DAY, (day0 + SHIFT_DAY * DAY) * 10**9,
        (day0 + (SHIFT_DAY + 1) * DAY) * 10**9, agent="router", positions=True,
    )  # fmt: skip
    [flag] = found["flags"]
    assert flag["position"] == 1  # each run's first (and only) tool call
