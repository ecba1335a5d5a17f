"""One run's replay: the Gantt-style timeline, cost per step, and every step in order: LLM
calls with their context window (what changed since the previous call highlighted) and the
command that re-runs from each, tool calls with arguments and results, decisions and
escalations; what the run re-ran, or its re-runs, and pinning it as a case (:mod:`.rerun`).
And a run compared with another, side by side, with the first divergence marked."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from .. import charts
from ..ui import Context, count, millis, money, set_param, short_time
from .compare import render_compare
from .rerun import render_lineage, render_pin, render_rerun_from

KIND_ICONS = {
    "llm": ":material/psychology:",
    "tool": ":material/build:",
    "decision": ":material/alt_route:",
    "escalation": ":material/support_agent:",
}


def render(ctx: Context, trace_id: str) -> None:
    st.markdown(f"[← All runs]({ctx.link(page='runs')})")
    against = st.query_params.get("against", "").strip().lower()
    if against:  # the diff answers for both runs: no timeline of this one is needed
        _compare_input(against)
        render_compare(ctx, trace_id, against)
        return
    timeline = ctx.get(f"/runs/{trace_id}/timeline")
    _header(timeline)
    render_lineage(ctx, trace_id)
    render_pin(ctx, trace_id, timeline["name"] or "")
    _scores(ctx.get(f"/runs/{trace_id}/scores")["scores"])
    with st.expander("Compare with another run"):
        _compare_input(against)
    steps = timeline["steps"]
    if not steps:
        st.info("This run has no steps (no LLM calls, tool calls or decisions were recorded).")
        return
    st.plotly_chart(charts.gantt(_gantt_frame(steps), "Timeline"), key="run_gantt")
    _cost_per_step(steps)
    st.subheader("Steps")
    calls = {c_index: c for c_index, c in enumerate(_llm_calls(ctx, trace_id), start=1)}
    failing = (timeline.get("first_failure") or {}).get("step")
    # A short run is read whole; in a long one the failing step opens and the rest wait.
    for step in steps:
        _step(ctx, trace_id, step, calls, expanded=len(steps) <= 6 or step["index"] == failing)


def _scores(scores: list[dict[str, Any]]) -> None:
    """What was said of the run: evaluators' scores, rule checks, users' feedback."""
    if not scores:
        st.caption("No scores or feedback on this run yet.")
        return
    rows = [
        {
            "name": s["name"],
            "kind": s["kind"],
            "value": "" if s["value"] is None else f"{s['value']:g}",
            "label": s["label"],
            "comment / explanation": s["comment"] or s["explanation"],
            "on": "run" if not s["span_id"] else f"span {s['span_id']}",
            "source": s["source"],
        }
        for s in scores
    ]
    st.markdown(f"**Scores and feedback** ({count(len(rows))})")
    st.dataframe(charts.frame(rows), hide_index=True, key="run_scores")


def _compare_input(against: str) -> None:
    st.session_state["run_against"] = against

    def sync() -> None:
        set_param("against", st.session_state["run_against"].strip().lower())

    st.text_input(
        "Compare with run",
        key="run_against",
        placeholder="trace id of another run (e.g. a good run of the same agent)",
        on_change=sync,
    )


def _header(t: dict[str, Any]) -> None:
    st.subheader(f"{t['name'] or 'run'} · `{t['trace_id']}`")
    cols = st.columns(6)
    cols[0].metric("Status", t["status"])
    cols[1].metric("Duration", millis(t["duration_ms"]))
    cols[2].metric("Steps", count(t["step_count"]), help="LLM calls + tool calls + decisions.")
    cols[3].metric("LLM calls", count(t["counts"]["llm_calls"]))
    cols[4].metric("Tokens", count(t["usage"]["total_tokens"]))
    cols[5].metric("Cost", money(t["cost_usd"]))
    st.caption(f"Started {short_time(t['start_time'])} UTC")
    failure = t.get("first_failure")
    if failure:
        error = failure.get("error") or "no error message recorded"
        if failure.get("step"):
            headline = (
                f"**First failure at step {failure['step']}** "
                f"({failure['kind']} `{failure['name']}`): {error}"
            )
        else:
            # The run failed but none of its LLM calls, tool calls or decisions did: the
            # agent's own span (or a retriever's) recorded the error.
            headline = (
                f"**The run failed** in its {failure['kind']} span `{failure['name']}`, "
                f"not in one of the steps below: {error}"
            )
        st.error(headline, icon=":material/error:")
    for note in t.get("missing") or []:
        st.caption(f":material/warning: {note}")
    if t.get("escalations"):
        st.warning(f"Escalated to a human at step(s) {', '.join(map(str, t['escalations']))}.")


def _gantt_frame(steps: list[dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for s in steps:
        if not s.get("start_time"):
            continue  # a requested tool call no span recorded has no times
        start = datetime.fromisoformat(s["start_time"][:26].rstrip("Z"))
        rows.append(
            {
                "start": start,
                "end": start + timedelta(milliseconds=max(s["duration_ms"], 1.0)),
                "label": f"{s['index']:>2} {s['kind']} · {s['name']}",
                "kind": "error" if s["status"] == "error" else s["kind"],
                "duration": millis(s["duration_ms"]),
                "cost": money(s["cost_usd"]),
                "status": s["status"],
            }
        )
    return pl.DataFrame(rows)


def _cost_per_step(steps: list[dict[str, Any]]) -> None:
    rows = [
        {
            "step": s["index"],
            "kind": s["kind"],
            "name": s["name"],
            "cost (USD)": s["cost_usd"],
            # A tool call the model asked for that never ran has no usage, cost or times.
            "tokens": (s["usage"] or {}).get("total_tokens"),
            "duration (s)": None if s["duration_ms"] is None else s["duration_ms"] / 1000,
            "status": s["status"],
        }
        for s in steps
    ]
    with st.expander("Cost and tokens per step", expanded=False):
        st.dataframe(
            charts.frame(rows),
            hide_index=True,
            key="run_step_costs",
            column_config={"cost (USD)": st.column_config.NumberColumn(format="$%.5f")},
        )


def _llm_calls(ctx: Context, trace_id: str) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = ctx.get(f"/runs/{trace_id}/llm-calls")["llm_calls"]
    return calls


def _step(
    ctx: Context,
    trace_id: str,
    step: dict[str, Any],
    calls: dict[int, dict[str, Any]],
    expanded: bool,
) -> None:
    icon = ":material/error:" if step["status"] == "error" else KIND_ICONS.get(step["kind"], "•")
    title = f"{icon} {step['index']}. {step['kind']} · {step['name']}"
    if step.get("duration_ms") is not None and step.get("start_time"):
        title += f" · {millis(step['duration_ms'])}"
    if step.get("cost_usd"):
        title += f" · {money(step['cost_usd'])}"
    with st.expander(title, expanded=expanded):
        if step["status"] == "error":
            st.error(step.get("error") or "this step failed")
        if step.get("missing"):
            st.caption("Not captured: " + ", ".join(step["missing"]))
        if step["kind"] == "llm":
            _llm_step(ctx, trace_id, step, calls)
        elif step["kind"] == "tool":
            _tool_step(step)
        elif step["kind"] == "decision":
            _decision_step(step["decision"])
        if step.get("escalation") or step["kind"] == "escalation":
            esc = step.get("escalation") or {}
            st.warning(
                f"Escalated to **{esc.get('target') or 'a human'}** "
                f"(severity {esc.get('severity') or 'unset'}): {esc.get('reason') or ''}"
            )


def _llm_step(
    ctx: Context, trace_id: str, step: dict[str, Any], calls: dict[int, dict[str, Any]]
) -> None:
    llm = step["llm"]
    n = llm["call"]
    usage = step["usage"]
    st.markdown(
        f"**Model** `{llm['model'] or llm['request_model']}` ({llm['provider']}) · "
        f"**tokens** {count(usage['input_tokens'])} in ({count(usage['cache_read_tokens'])} "
        f"cached) / {count(usage['output_tokens'])} out · **finish** "
        f"{', '.join(llm['finish_reasons']) or '—'}"
    )
    render_rerun_from(trace_id, n)
    call = calls.get(n)
    if call is None:
        st.caption("The context window of this call was not captured.")
        return
    diff = ctx.get(f"/runs/{trace_id}/llm-calls/{n}/diff")
    if n == 1:
        st.caption("Context window of call 1, the run's first LLM call.")
    else:
        st.caption(f"Context window of call {n}: {diff.get('summary', '')}")
    offered = [str(t.get("name", "?")) for t in call.get("tool_definitions") or []]
    params = ", ".join(f"{k}={v}" for k, v in (call.get("parameters") or {}).items())
    if offered or params:
        st.caption(
            (f"Tools offered: {', '.join(offered)}. " if offered else "")
            + (f"Parameters: {params}." if params else "")
        )
    marks = {
        c["index"]: c["op"]
        for c in diff.get("changes", [])
        if c.get("index") is not None and c["op"] != "removed"
    }
    removed = [c for c in diff.get("changes", []) if c["op"] == "removed"]
    if call.get("system_instructions"):
        changed = (diff.get("system_instructions") or {}).get("changed")
        label = "system" + (" :orange-badge[changed]" if changed and n > 1 else "")
        _message(label, call["system_instructions"])
    for index, message in enumerate(call.get("input_messages") or []):
        op = marks.get(index)
        badge = ""
        if op and n > 1:
            colour = "green" if op in ("appended", "inserted") else "orange"
            badge = f" :{colour}-badge[{op} since call {n - 1}]"
        _message(f"{message.get('role', '?')}{badge}", message.get("parts") or [])
    for change in removed:
        st.markdown(f":red-badge[removed since call {n - 1}] {change.get('role', '')} message")
    outputs = call.get("output_messages") or []
    if outputs:
        st.markdown("**Output**")
    elif step["status"] == "error":
        st.markdown("**Output**: none, the call failed (its error is above).")
    else:
        st.markdown("**Output**: not captured by the instrumentation.")
    for message in outputs:
        _message(message.get("role", "assistant"), message.get("parts") or [])


def _message(label: str, parts: list[dict[str, Any]]) -> None:
    with st.container(border=True):
        st.markdown(f"**{label}**")
        for part in parts:
            kind = part.get("type")
            if kind == "text":
                st.text(part.get("content", ""))
            elif kind == "tool_call":
                st.markdown(f"calls tool `{part.get('name')}` (id `{part.get('id')}`)")
                st.code(_pretty(part.get("arguments")), language="json")
            elif kind == "tool_call_response":
                st.markdown(f"result of `{part.get('id')}`")
                st.code(_pretty(part.get("response")), language="json")
            else:
                st.code(_pretty(part), language="json")


def _tool_step(step: dict[str, Any]) -> None:
    tool = step["tool"]
    requested = tool.get("requested_by")
    st.markdown(
        f"**Tool** `{tool['name']}` · call id `{tool.get('call_id') or '—'}`"
        + (f" · requested by step {requested}" if requested else "")
    )
    left, right = st.columns(2)
    left.markdown("**Arguments**")
    left.code(_pretty(tool.get("arguments")), language="json")
    right.markdown("**Result**")
    if tool.get("result") is None:
        right.caption("no result (the call failed or its result was not captured)")
    else:
        right.code(_pretty(tool.get("result")), language="json")


def _decision_step(decision: dict[str, Any]) -> None:
    options = decision.get("options") or []
    chosen = decision.get("chosen")
    shown = " · ".join(f"**{o}** (chosen)" if o == chosen else str(o) for o in options) or "—"
    st.markdown(f"**Decision** `{decision.get('name')}`: {shown}")
    confidence = decision.get("confidence")
    st.caption(
        f"Chose {chosen!r} because: {decision.get('reason') or '(no reason given)'}"
        + (f" · confidence {confidence:.0%}" if isinstance(confidence, int | float) else "")
    )


def _pretty(value: Any) -> str:
    if isinstance(value, str) and not value.strip():
        return json.dumps(value)  # an empty or blank string shown as such, not as a blank block
    if isinstance(value, str):
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)
