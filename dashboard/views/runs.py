"""Runs: search and filter runs, open one (its replay), compare two."""

from __future__ import annotations

from typing import Any

import streamlit as st

from .. import charts
from ..filters import search_problem, trace_id_problem
from ..ui import (
    Context,
    money,
    page_number,
    pager,
    short_time,
    sync_param,
    table_time,
    url_pick,
)
from . import run_view

SORTS = {
    "start_time": "Newest",
    "cost": "Most expensive",
    "duration": "Slowest",
    "errors": "Most errors",
    "llm_calls": "Most LLM calls",
}
STATUSES = {"": "Any status", "error": "Failed", "ok": "Succeeded"}
PAGE_SIZE = 50
#: Status as the tables show it: a mark that reads at a glance, and the word.
STATUS_LABELS = {"error": "✗ failed", "ok": "✓ ok"}
#: The run tables' columns, sized to fit a 1400-pixel-wide window beside the sidebar (a wider
#: table scrolled its last columns out of sight); text longer than its column ends in "…"
#: (the run's page has it whole). Tokens, tool calls and user are on the run's page.
RUN_COLUMNS = {
    "replay": st.column_config.LinkColumn("replay", display_text="open ↗", width=52),
    "started (UTC)": st.column_config.TextColumn(width=118),
    "status": st.column_config.TextColumn(width=64),
    "error": st.column_config.TextColumn(width=150),
    "agent": st.column_config.TextColumn(width=90),
    "run": st.column_config.TextColumn(width=95),
    "models": st.column_config.TextColumn(width=85),
    "cost": st.column_config.TextColumn(width=80, alignment="right"),
    "duration": st.column_config.NumberColumn(format="%.2f s", width=64),
    "calls": st.column_config.NumberColumn(width=50, help="LLM calls"),
    "trace id": st.column_config.TextColumn(width=80),
}
#: How much of a run's first error message a table cell shows (the run page has all of it).
ERROR_CELL_CHARS = 120


def render(ctx: Context) -> None:
    run = st.query_params.get("run", "").strip().lower()
    if run:
        problem = trace_id_problem(run)
        if problem:
            st.error(problem, icon=":material/block:")
            st.markdown(f"[← All runs]({ctx.link(page='runs')})")
            return
        run_view.render(ctx, run)
        return
    search, status, sort = _controls()
    problem = search_problem(search)
    if problem:
        st.error(problem, icon=":material/block:")
        return
    page = page_number()
    params: dict[str, Any] = {"sort": sort, "order": "desc", "limit": PAGE_SIZE, "q": search}
    params["offset"] = (page - 1) * PAGE_SIZE
    if status:
        params["status"] = status
    data = runs_table(ctx, params, key="runs_list")
    if not data["runs"] and data["total"] and page > 1:
        # Past the last page (the filters changed under it): back to the first.
        st.query_params.pop("pg", None)
        st.rerun()
    pager(page, data["total"], PAGE_SIZE, "runs_page")
    if data["runs"]:
        _open_picker(ctx, data["runs"])


def runs_table(ctx: Context, extra: dict[str, Any], key: str) -> dict[str, Any]:
    """A table of runs (the page's filters and ``extra``), each linked to its replay."""
    data: dict[str, Any] = ctx.get("/runs", {**ctx.runs_params, **extra})
    runs = data["runs"]
    if not runs:
        st.info("No runs match these filters.")
        return data
    rows = [
        {
            "replay": ctx.link(page="runs", run=r["trace_id"]),
            "started (UTC)": table_time(r["start_time"]),
            "status": STATUS_LABELS.get(r["status"], r["status"]),
            "error": error_text(r.get("error")),
            "agent": r["agent"],
            "run": r["name"],
            "models": ", ".join(r.get("models") or []),
            "cost": money(r["cost_usd"]),
            "duration": r["duration_ms"] / 1000,
            "calls": r["llm_calls"],
            "trace id": r["trace_id"],
        }
        for r in runs
    ]
    st.dataframe(
        charts.frame(rows),
        hide_index=True,
        key=key,
        height=min(36 + 35 * len(rows), 736),
        column_config=RUN_COLUMNS,
    )
    first = int(data.get("offset") or 0) + 1
    st.caption(
        f"Runs {first:,}–{first + len(runs) - 1:,} of {data['total']:,} matching runs. "
        "**open ↗** replays a run in a new tab; its link can be shared."
    )
    return data


def error_text(error: dict[str, str] | None) -> str:
    """A run's first error as a cell: ``Type: message`` (shortened)."""
    if not error:
        return ""
    text = ": ".join(part for part in (error.get("type"), error.get("message")) if part)
    return text if len(text) <= ERROR_CELL_CHARS else text[: ERROR_CELL_CHARS - 1] + "…"


def _controls() -> tuple[str, str, str]:
    st.session_state["runs_q"] = st.query_params.get("q", "")
    left, mid, right = st.columns([3, 1, 1])
    left.text_input(
        "Search",
        key="runs_q",
        placeholder="trace id, run name, session or user",
        on_change=sync_param,
        args=("runs_q", "q", ""),
    )
    status = url_pick(mid.selectbox, "Status", "status", STATUSES, "runs_status")
    sort = url_pick(right.selectbox, "Sort", "sort", SORTS, "runs_sort")
    return str(st.session_state["runs_q"]).strip(), status, sort


def _open_picker(ctx: Context, runs: list[dict[str, Any]]) -> None:
    labels = {
        r["trace_id"]: f"{short_time(r['start_time'])} · {r['agent'] or r['name']} · "
        f"{r['status']} · {r['trace_id'][:12]}…"
        for r in runs
    }

    def open_run() -> None:
        chosen = st.session_state.get("runs_open")
        if chosen:
            st.query_params["run"] = chosen

    st.selectbox(
        "Open a run",
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder="pick a run to replay it here",
        key="runs_open",
        on_change=open_run,
    )
