"""Re-runs on a run's page: what a re-run re-ran (from which call, where its requests stopped
matching the recording, one click to the diff with the original), the re-runs of an original,
the command that re-runs from any LLM call, and pinning the run as a regression case.

The SDK's re-run mode does the re-running, on the user's machine: the page gives the commands
(``AGENTREEL_RERUN_OF`` / ``AGENTREEL_RERUN_FROM``, ``agentreel pin``) and the case document,
fetched from ``/runs/{trace_id}/case`` only when asked for (it holds the whole run)."""

from __future__ import annotations

import json
import re
from typing import Any

import streamlit as st

from .. import charts
from ..client import ApiError, Refused
from ..ui import Context, count, short_time

#: How a status reads in the re-runs table (the runs list's marks).
STATUS_LABELS = {"error": "✗ failed", "ok": "✓ ok"}


def rerun_command(trace_id: str, call: int) -> str:
    """The shell command that re-runs ``trace_id`` answering calls before ``call`` from the
    recording and going live from it."""
    return f"AGENTREEL_RERUN_OF={trace_id} AGENTREEL_RERUN_FROM={call} python your_agent.py"


def case_name(trace_id: str, run_name: str) -> str:
    """A file name (without ``.json``) for the run pinned as a case: its name and id, slugged."""
    slug = re.sub(r"[^a-z0-9]+", "-", run_name.lower()).strip("-")[:40].strip("-")
    return f"{slug or 'run'}-{trace_id[:8]}"


def render_lineage(ctx: Context, trace_id: str) -> None:
    """What this run re-ran, and the runs that re-ran it."""
    detail = ctx.get(f"/runs/{trace_id}", {"spans": "false"})  # the summary, not the tree
    run = detail["run"]
    original = run.get("rerun_of")
    if original:
        _rerun_of(ctx, trace_id, run, original)
    reruns = detail.get("reruns") or []
    if reruns:
        _reruns_table(ctx, reruns, int(detail.get("reruns_total") or len(reruns)))


def _rerun_of(ctx: Context, trace_id: str, run: dict[str, Any], original: str) -> None:
    start = run.get("rerun_from_call") or 0
    link = f"[`{original}`]({ctx.link(page='runs', run=original)})"
    if start:
        text = f"**Re-run of** {link} **from call {start}**: "
        text += (
            f"{_served(start)} answered from the recording, live from there."
            if start > 1
            else "live from the first call."
        )
    else:
        text = f"**Re-run of** {link}, fully offline: every call answered from the recording."
    at = run.get("rerun_diverged_at")
    if at is not None:
        what = run.get("rerun_divergence") or "no detail recorded"
        st.warning(f"{text}\n\n**Diverged at call {at}**: {what}", icon=":material/call_split:")
    else:
        st.info(f"{text} Its requests matched the recording.", icon=":material/replay:")
    compare = ctx.link(page="runs", run=trace_id, against=original)
    st.markdown(f"[Compare with the original →]({compare})")


def _reruns_table(ctx: Context, reruns: list[dict[str, Any]], total: int) -> None:
    rows = [
        {
            "re-run": ctx.link(page="runs", run=r["trace_id"]),
            "started (UTC)": short_time(r["start_time"]),
            "from call": str(r["from_call"]) if r["from_call"] else "0 (offline)",
            "status": STATUS_LABELS.get(r["status"], r["status"]),
            "first divergence": _divergence(r),
            "trace id": r["trace_id"],
        }
        for r in reruns
    ]
    shown = f"the newest {len(rows)} of {count(total)}" if total > len(rows) else count(total)
    st.markdown(f"**Re-runs of this run** ({shown})")
    st.dataframe(
        charts.frame(rows),
        hide_index=True,
        key="run_reruns",
        column_config={"re-run": st.column_config.LinkColumn("re-run", display_text="open ↗")},
    )


def _divergence(rerun: dict[str, Any]) -> str:
    if rerun.get("diverged_at") is None:
        return "none"
    return f"call {rerun['diverged_at']}: {rerun.get('divergence') or 'no detail recorded'}"


def _served(start: int) -> str:
    """The calls a re-run live from call ``start`` answers from the recording."""
    return "call 1" if start == 2 else f"calls 1–{start - 1}"


def render_rerun_from(trace_id: str, call: int) -> None:
    """Under an LLM call: the command that re-runs the run from it."""
    before = f"{_served(call)} answered from the recording, " if call > 1 else ""
    st.caption(f"Re-run from this call ({before}live from call {call}) with your fix:")
    st.code(rerun_command(trace_id, call), language="bash")


def render_pin(ctx: Context, trace_id: str, run_name: str) -> None:
    """Pin the run as a regression case: the case file to download (built by the server when
    asked) and the command that writes it."""
    name = case_name(trace_id, run_name)
    key = f"case:{trace_id}"
    left, right = st.columns([1, 3])
    if left.button("Pin as regression case", key=f"pin_{trace_id}", icon=":material/push_pin:"):
        try:
            st.session_state[key] = json.dumps(
                ctx.client.get(f"/runs/{trace_id}/case"), indent=2, ensure_ascii=False
            )
        except ApiError as exc:
            st.session_state.pop(key, None)
            _case_refused(exc)
    if key in st.session_state:
        left.download_button(
            "Download the case",
            data=st.session_state[key],
            file_name=f"{name}.json",
            mime="application/json",
            key=f"case_download_{trace_id}",
            on_click="ignore",
        )
    right.caption("Or from the command line (`pytest` then runs it offline):")
    right.code(f"agentreel pin {trace_id} -o cases/{name}.json", language="bash")


def _case_refused(exc: ApiError) -> None:
    if isinstance(exc, Refused) and exc.status == 404:
        st.warning(
            f"The server could not build a case for this run: {exc.detail} "
            "(a server older than pinning answers 404 here; `agentreel pin` needs one as new).",
            icon=":material/push_pin:",
        )
    else:
        st.warning(f"The case could not be fetched: {exc}", icon=":material/push_pin:")
