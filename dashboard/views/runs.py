"""Runs: search and filter runs, open one (its replay), compare two."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from .. import charts
from ..filters import search_problem
from ..ui import Context, short_time
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
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def render(ctx: Context) -> None:
    run = st.query_params.get("run", "").strip().lower()
    if run:
        if not _TRACE_ID.match(run):
            st.error(
                f"{run!r} is not a trace id (32 hexadecimal characters).", icon=":material/block:"
            )
            st.markdown(f"[← All runs]({ctx.link(page='runs')})")
            return
        run_view.render(ctx, run)
        return
    search, status, sort = _controls()
    problem = search_problem(search)
    if problem:
        st.error(problem, icon=":material/block:")
        return
    params: dict[str, Any] = {"sort": sort, "order": "desc", "limit": PAGE_SIZE, "q": search}
    if status:
        params["status"] = status
    data = runs_table(ctx, params, key="runs_list")
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
            "started (UTC)": short_time(r["start_time"]),
            "agent": r["agent"] or r["name"],
            "status": r["status"],
            "cost (USD)": r["cost_usd"],
            "duration (s)": r["duration_ms"] / 1000,
            "LLM calls": r["llm_calls"],
            "tool calls": r["tool_calls"],
            "tokens": r["usage"]["total_tokens"],
            "models": ", ".join(r.get("models") or []),
            "user": r["user"],
            "trace id": r["trace_id"],
        }
        for r in runs
    ]
    st.dataframe(
        charts.frame(rows),
        hide_index=True,
        key=key,
        height=min(36 + 35 * len(rows), 736),
        column_config={
            "replay": st.column_config.LinkColumn("replay", display_text="open ↗"),
            "cost (USD)": st.column_config.NumberColumn(format="$%.4f"),
            "duration (s)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(
        f"{len(runs)} of {data['total']:,} matching runs shown. **open ↗** replays a run in a "
        "new tab; its link can be shared."
    )
    return data


def _controls() -> tuple[str, str, str]:
    qp = st.query_params
    st.session_state["runs_q"] = qp.get("q", "")
    status = qp.get("status", "")
    st.session_state["runs_status"] = status if status in STATUSES else ""
    sort = qp.get("sort", "start_time")
    st.session_state["runs_sort"] = sort if sort in SORTS else "start_time"

    def sync(widget: str, param: str, default: str) -> None:
        value = st.session_state[widget]
        if value in ("", default, None):
            st.query_params.pop(param, None)
        else:
            st.query_params[param] = value

    left, mid, right = st.columns([3, 1, 1])
    left.text_input(
        "Search",
        key="runs_q",
        placeholder="trace id, run name, session or user",
        on_change=sync,
        args=("runs_q", "q", ""),
    )
    mid.selectbox(
        "Status",
        list(STATUSES),
        format_func=STATUSES.__getitem__,
        key="runs_status",
        on_change=sync,
        args=("runs_status", "status", ""),
    )
    right.selectbox(
        "Sort",
        list(SORTS),
        format_func=SORTS.__getitem__,
        key="runs_sort",
        on_change=sync,
        args=("runs_sort", "sort", "start_time"),
    )
    if status and status not in STATUSES:
        st.warning(f"Unknown status {status!r}; showing runs of any status.")
    return (
        str(st.session_state["runs_q"]).strip(),
        st.session_state["runs_status"],
        (st.session_state["runs_sort"]),
    )


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
