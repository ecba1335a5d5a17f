"""Headless Chromium for the dashboard's browser tests and bench/dashboard.py: where the
browser is, how it is started, when a Streamlit page has finished rendering, and what counts
as a broken page (exception text) or a clipped one (tables and tick labels cut)."""

from __future__ import annotations

import os
import re
import shutil

from support.paths import ROOT

CHROMIUM = os.environ.get("AGENTREEL_TEST_CHROMIUM") or shutil.which("chromium") or ""
#: Flags that let Chromium run headless here (no sandbox, no GPU, no background traffic).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = ROOT / "build" / "screenshots"
#: Alert texts that mean the dashboard itself failed, not a run it shows.
BROKEN = re.compile(r"Traceback|Exception:|^Error\b|refused this view|Server unreachable", re.M)


def broken(page: object) -> list[str]:
    """Exception text on the page: Streamlit's exception boxes, a traceback anywhere, and
    alert boxes that say the dashboard failed (not those that show a run's failure)."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    found = [
        f"exception: {e}" for e in page.locator('[data-testid="stException"]').all_inner_texts()
    ]
    if "Traceback (most recent call last)" in page.locator("body").inner_text():
        found.append("a traceback in the page")
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    found += [f"alert: {text[:300]}" for text in alerts if BROKEN.search(text)]
    return found


#: DOM measurements of clipping: a table whose content is wider than its box (its last
#: columns scroll out of sight), one whose right edge passes the viewport, and a chart's
#: tick label drawn outside its figure. Hidden elements (collapsed, other tab) are skipped.
_CLIPPED_JS = """() => {
  const out = [], vw = document.documentElement.clientWidth;
  const name = el => {
    const heads = [...el.querySelectorAll('[role="columnheader"], th')].map(h => h.textContent.trim());
    return heads.length ? `(${heads.filter(Boolean).join(', ')})` : el.dataset.testid;
  };
  for (const el of document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    // The grid's scroller (st.dataframe) or the table's box (st.table); the element itself
    // is always a few pixels wider than its box (its toolbar), which is not clipping.
    for (const s of el.querySelectorAll('.dvn-scroller, [data-testid="stTableStyledTable"]')) {
      if (s.scrollWidth > s.clientWidth + 1)
        out.push(`table ${name(el)}: ${s.scrollWidth}px of columns in ${s.clientWidth}px`);
    }
    if (r.right > vw + 1) out.push(`table ${name(el)}: right edge ${r.right}px past ${vw}px`);
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const svg = plot.querySelector('svg.main-svg');
    if (!svg) continue;
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;
    for (const t of plot.querySelectorAll('.xtick text, .ytick text')) {
      const r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.bottom > box.bottom + 1))
        out.push(`chart ${name(plot)}: tick label '${t.textContent}' cut at the figure's edge`);
    }
  }
  return out;
}"""


def clipped(page: object) -> list[str]:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    found: list[str] = page.evaluate(_CLIPPED_JS)
    return found


def wait_rendered(page: object) -> None:
    """Wait until Streamlit has finished running the script for this page (the app root says
    ``notRunning``, which it is only after a run) and the page has a title."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    page.wait_for_selector(done, timeout=90_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_selector(done, timeout=90_000)  # a rerun the first run asked for
    page.wait_for_selector("h1", timeout=10_000)
    # Code blocks are highlighted by a lazily loaded script: wait until each holds its text.
    # textContent, not innerText: a block inside a collapsed expander has no rendered text.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stCode\"]')]"
        ".every(e => e.textContent.trim().length > 0)",
        timeout=30_000,
    )
