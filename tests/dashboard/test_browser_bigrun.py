"""A big run in a real headless Chromium: 2,000 spans, 200 LLM calls, windows of 80k to 100k
tokens (``support.bigrun``), sent over OTLP to a live server and opened in the dashboard.
The page must show no exception text and no clipped table; a Gantt bar and a step of the list
open their step; scrolling the page keeps it answering. Timings are ``bench/dashboard.py
--big-run``'s subject, not this test's. Screenshots go to build/screenshots/bigrun-*.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support.bigrun import BigRun, send_big_run
from support.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, broken, clipped, wait_rendered
from support.liveserver import RunningServer, start_dashboard, start_server

#: The window the page is checked in (tables must fit it).
VIEWPORT = {"width": 1400, "height": 1000}
#: The entries of the step list (the sidebar's page radio left out).
STEP_LIST = '[data-testid="stRadio"]:not([data-testid="stSidebar"] *) [role="radiogroup"] label'


@dataclass
class Dashboard:
    server: RunningServer
    url: str
    run: BigRun


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    if not CHROMIUM:
        pytest.skip("chromium is not installed (CI installs Debian's chromium from .ci/run)")
    data = tmp_path_factory.mktemp("bigrun")
    server = start_server(data / "data", {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    try:
        run = send_big_run(server.url)
        dashboard = start_dashboard(server.url, data / "dashboard.log")
        try:
            yield Dashboard(server, dashboard.url, run)
        finally:
            dashboard.stop()
    finally:
        server.stop()


def _page(dashboard: Dashboard) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = SCREENSHOTS.parent / "chromium-profile-bigrun"
    shutil.rmtree(profile, ignore_errors=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
            viewport=VIEWPORT,
        )  # fmt: skip
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.fixture
def page(dashboard: Dashboard) -> Iterator[Any]:
    yield from _page(dashboard)


def _check(page: Any, name: str) -> None:
    """No exception, no error text, no clipped table; a screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"bigrun-{name}.png"))
    assert not broken(page), f"{name}: {broken(page)}"
    assert not clipped(page), f"{name}: {clipped(page)}"


def _heading(page: Any) -> str:
    return str(page.locator("h4").first.inner_text())


def _open_step(page: Any, step: int) -> None:
    page.wait_for_function(f"() => location.search.includes('step={step}')", timeout=60_000)
    wait_rendered(page)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('h4')].some(h => h.innerText.includes('Step {step} '))",
        timeout=60_000,
    )


def test_a_big_run_opens_pages_and_navigates(dashboard: Dashboard, page: Any) -> None:
    run = dashboard.run
    page.goto(f"{dashboard.url}/?page=runs&run={run.trace_id}", wait_until="domcontentloaded")
    wait_rendered(page)
    _check(page, "open")
    assert "Step 1 · LLM call 1" in _heading(page)
    # Only a page of steps is drawn: 50 bars, 50 entries in the list.
    bars = page.locator('[data-testid="stPlotlyChart"] .trace.bars .point path')
    assert bars.count() == 50
    assert page.locator(STEP_LIST).count() == 50

    # A Gantt bar opens its step (the bars are ordered by trace: find the one for step 5).
    labels = page.locator('[data-testid="stPlotlyChart"] .yaxislayer-above .ytick text')
    assert labels.count() == 50
    bars.nth(_bar_of(page, 5)).click(force=True)
    _open_step(page, 5)
    _check(page, "gantt-click")

    # A step of the list opens it; a late call shows what changed, the rest folded.
    page.locator(STEP_LIST).nth(9).click()
    _open_step(page, 10)
    page.goto(
        f"{dashboard.url}/?page=runs&run={run.trace_id}&step=1500", wait_until="domcontentloaded"
    )
    wait_rendered(page)
    _check(page, "late-call")
    assert "Step 1500 · " in _heading(page)

    # Scrolling the whole page: the page keeps answering (a stalled renderer times out here).
    for _ in range(30):
        page.mouse.wheel(0, 800)
    assert page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))") == 1
    _check(page, "scrolled")


def _bar_of(page: Any, step: int) -> int:
    """Index among the chart's bars of the bar of ``step``: each kind is a trace of its own,
    so bar order is by kind, then by step."""
    spans = page.evaluate(
        """() => {
          const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
          return plot.data.map(t => (t.customdata || []).map(c => c[0]));
        }"""
    )
    flat = [s for trace in spans for s in trace]
    return flat.index(step)
