"""Sessions: runs that share a session id are one conversation to the user. The list shows
each session's runs, times, cost and how many failed; a session opens as its runs in order,
each with its cost, status and scores and a link to its replay."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import streamlit as st

from .. import charts
from ..ui import Context, count, money, page_number, pager, short_time, sync_param, table_time
from .runs import RUN_COLUMNS, STATUS_LABELS, error_text

PAGE_SIZE = 50
#: Sized to fit beside the sidebar in a 1400-pixel-wide window (see ``runs.RUN_COLUMNS``).
SESSION_COLUMNS = {
    "open": st.column_config.LinkColumn("open", display_text="runs ↗", width=62),
    "session": st.column_config.TextColumn(width=170),
    "last active (UTC)": st.column_config.TextColumn(width=118),
    "status": st.column_config.TextColumn(width=110),
    "runs": st.column_config.NumberColumn(width=50),
    "cost": st.column_config.TextColumn(width=80, alignment="right"),
    "first run (UTC)": st.column_config.TextColumn(width=118),
    "agents": st.column_config.TextColumn(width=110),
    "users": st.column_config.TextColumn(width=110),
}


def render(ctx: Context) -> None:
    session = st.query_params.get("session", "")
    if session:
        _session(ctx, session)
        return
    st.session_state["sessions_q"] = st.query_params.get("q", "")
    st.text_input(
        "Search",
        key="sessions_q",
        placeholder="text in the session id",
        on_change=sync_param,
        args=("sessions_q", "q", ""),
    )
    page = page_number()
    params = {**ctx.params, "q": str(st.session_state["sessions_q"]).strip() or None}
    data = ctx.get("/sessions", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE})
    sessions = data["sessions"]
    if not sessions:
        if data["total"] and page > 1:  # past the last page: back to the first
            st.query_params.pop("pg", None)
            st.rerun()
        st.info(
            "No sessions in this time range. A session is the runs whose spans carry the same "
            "`session.id` (OpenInference, OpenLLMetry) or `gen_ai.conversation.id` (OpenTelemetry "
            "GenAI): set it on your agent's spans to see its conversations here."
        )
        return
    rows = [
        {
            "open": ctx.link(page="sessions", session=s["session"]),
            "session": s["session"],
            "last active (UTC)": table_time(s["last_time"]),
            "status": _status(s),
            "runs": s["runs"],
            "cost": money(s["cost_usd"]),
            "first run (UTC)": table_time(s["first_time"]),
            "agents": ", ".join(s["agents"]),
            "users": ", ".join(s["users"]),
        }
        for s in sessions
    ]
    st.dataframe(
        charts.frame(rows),
        hide_index=True,
        key="sessions_list",
        height=min(36 + 35 * len(rows), 736),
        column_config=SESSION_COLUMNS,
    )
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(
        f"Sessions {first:,}–{first + len(sessions) - 1:,} of {data['total']:,} with a run in "
        "this range (newest activity first); each session's figures cover all its runs. "
        "**runs ↗** shows a session's runs in order."
    )
    pager(page, data["total"], PAGE_SIZE, "sessions_page")


def _status(session: dict[str, Any]) -> str:
    failed = session["failed_runs"]
    if not failed:
        return STATUS_LABELS["ok"]
    return f"✗ {failed} of {session['runs']} failed"


def _session(ctx: Context, session: str) -> None:
    st.markdown(f"[← All sessions]({ctx.link(page='sessions')})")
    page = page_number()
    path = "/sessions/" + quote(session, safe="")
    data = ctx.get(path, {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE})
    summary, runs = data["session"], data["runs"]
    st.subheader(f"Session `{session}`")
    cols = st.columns(3)
    cols[0].metric("Runs", count(summary["runs"]))
    cols[1].metric("Failed runs", count(summary["failed_runs"]))
    cols[2].metric("Cost", money(summary["cost_usd"]))
    who = ", ".join(summary["agents"]) or "no agent named"
    users = ", ".join(summary["users"])
    st.caption(
        f"From {short_time(summary['first_time'])} to {short_time(summary['last_time'])} UTC · "
        f"agents: {who}" + (f" · users: {users}" if users else "")
    )
    rows = [
        {
            "#": (page - 1) * PAGE_SIZE + i,
            "replay": ctx.link(page="runs", run=r["trace_id"]),
            "started (UTC)": table_time(r["start_time"]),
            "status": STATUS_LABELS.get(r["status"], r["status"]),
            "cost": money(r["cost_usd"]),
            "scores": _scores(r.get("scores") or []),
            "error": error_text(r.get("error")),
            "run": r["name"],
            "trace id": r["trace_id"],
        }
        for i, r in enumerate(runs, start=1)
    ]
    st.dataframe(
        charts.frame(rows),
        hide_index=True,
        key="session_runs",
        height=min(36 + 35 * len(rows), 736),
        column_config={
            "#": st.column_config.NumberColumn(width=36),
            **{name: RUN_COLUMNS[name] for name in ("replay", "started (UTC)", "status", "cost")},
            "scores": st.column_config.TextColumn(width=160),
            "error": st.column_config.TextColumn(width=170),
            **{name: RUN_COLUMNS[name] for name in ("run", "trace id")},
        },
    )
    st.caption(
        f"The session's runs in the order they started ({data['total']:,} in all). "
        "**open ↗** replays a run."
    )
    pager(page, data["total"], PAGE_SIZE, "session_runs_page")


def _scores(scores: list[dict[str, Any]]) -> str:
    """A run's scores as one cell: ``name value (source)``, a label where there is no value."""
    shown = []
    for s in scores:
        value = s["label"] if s["value"] is None else f"{s['value']:.2f}"
        shown.append(f"{s['name']} {value} ({s['source']})")
    return ", ".join(shown)
