"""One run's replay, as a debugger: the Gantt-style timeline, cost per step, the list of steps
beside the selected step (the URL's ``step``; a Gantt bar or a list entry selects one), which
:mod:`.step_view` draws: what changed in an LLM call's window since the call before, the rest
folded; a tool call's arguments and result; a decision's reason.
What the run re-ran, or its re-runs, and pinning it as a case (:mod:`.rerun`). And a run
compared with another, side by side, with the first divergence marked.

A *step* is a row of the timeline (LLM call, tool call, decision, escalation); a *call* is an
LLM call, numbered apart. A long run stays light: steps are paged (``PAGE_STEPS`` per page, in
the list and the chart), all diffs come in one request, and only the selected call's window
is fetched and drawn."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from .. import charts
from ..ui import Context, count, millis, money, set_param, short_time
from .compare import render_compare
from .rerun import render_lineage, render_pin
from .step_view import render_step


def render(ctx: Context, trace_id: str) -> None:
    st.markdown(f"[← All runs]({ctx.link(page='runs')})")
    against = st.query_params.get("against", "").strip().lower()
    if against:  # the diff answers for both runs: no timeline of this one is needed
        _compare_input(against)
        render_compare(ctx, trace_id, against)
        return
    timeline = ctx.get_run(f"/runs/{trace_id}/timeline")
    _header(timeline)
    _session(ctx, trace_id)
    render_lineage(ctx, trace_id)
    render_pin(ctx, trace_id, timeline["name"] or "")
    scored = ctx.get(f"/runs/{trace_id}/scores")
    _verdict(scored.get("hallucination"))
    _scores(scored["scores"])
    with st.expander("Compare with another run"):
        _compare_input(against)
    steps = timeline["steps"]
    if not steps:
        st.info("This run has no steps (no LLM calls, tool calls or decisions were recorded).")
        return
    failing = (timeline.get("first_failure") or {}).get("step")
    selected = _selected(steps, failing)
    page = _page(steps, selected)
    shown = steps[page * PAGE_STEPS : (page + 1) * PAGE_STEPS]
    st.plotly_chart(
        charts.gantt(_gantt_frame(shown), _gantt_title(shown, len(steps))),
        key="run_gantt",
        on_select=_gantt_clicked,
        selection_mode="points",
    )
    _cost_per_step(steps)
    # One request for what changed at every call; the windows are fetched one at a time.
    diffs = ctx.get_run(f"/runs/{trace_id}/llm-calls/diffs")["diffs"] if _has_calls(steps) else []
    _steps_panel(ctx, trace_id, steps, shown, diffs, failing)


@st.fragment
def _steps_panel(
    ctx: Context,
    trace_id: str,
    steps: list[dict[str, Any]],
    shown: list[dict[str, Any]],
    diffs: list[dict[str, Any]],
    failing: int | None,
) -> None:
    """The page's steps beside the selected one. A fragment: picking a step in the list
    reruns this panel alone (the URL's ``step`` follows), not the header, chart and tables
    above it, which a big run makes the costly part of the page."""
    selected = _selected(steps, failing, warn=False)
    if not any(s["index"] == selected for s in shown):
        selected = shown[0]["index"]
    listed, detail = st.columns([1, 3], gap="medium")
    with listed:
        _step_list(shown, diffs, selected)
    with detail:
        render_step(ctx, trace_id, steps[selected - 1], diffs)


#: Steps per page of the step list and the Gantt chart: a long run is paged, never drawn whole.
PAGE_STEPS = 50


def _has_calls(steps: list[dict[str, Any]]) -> bool:
    return any(s["kind"] == "llm" for s in steps)


def _selected(steps: list[dict[str, Any]], failing: int | None, *, warn: bool = True) -> int:
    """The step the URL names (``step``), else the first failing step, else step 1."""
    raw = st.query_params.get("step", "")
    if raw.isdigit() and 1 <= int(raw) <= len(steps):
        return int(raw)
    if raw and warn:
        st.warning(f"This run has no step {raw!r} (steps 1 to {len(steps)}); showing another.")
    return failing if failing and failing <= len(steps) else 1


def _page(steps: list[dict[str, Any]], selected: int) -> int:
    """The page of steps that holds the selected one; a page picker when there are several."""
    pages = (len(steps) + PAGE_STEPS - 1) // PAGE_STEPS
    page = (selected - 1) // PAGE_STEPS
    if pages > 1:
        st.session_state["run_page"] = page

        def turn() -> None:
            set_param("step", st.session_state["run_page"] * PAGE_STEPS + 1)

        st.selectbox(
            "Steps",
            range(pages),
            key="run_page",
            format_func=lambda p: (
                f"steps {p * PAGE_STEPS + 1}–{min(len(steps), (p + 1) * PAGE_STEPS)} "
                f"of {len(steps):,}"
            ),
            on_change=turn,
            help="A long run is shown a page of steps at a time.",
        )
    return page


def _gantt_title(shown: list[dict[str, Any]], total: int) -> str:
    if len(shown) == total:
        return "Timeline (click a bar to open its step)"
    return f"Timeline of steps {shown[0]['index']}–{shown[-1]['index']} (click a bar to open it)"


def _gantt_clicked() -> None:
    step = step_of_selection(st.session_state.get("run_gantt"))
    if step is not None:
        set_param("step", step)


def step_of_selection(state: Any) -> int | None:
    """The step of the Gantt bar clicked (its ``customdata``), from the chart's selection."""
    try:
        points = state["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, list | tuple) and data:
            return int(data[0])
        if isinstance(data, int | float):
            return int(data)
    return None


def step_label(step: dict[str, Any], diffs: list[dict[str, Any]]) -> str:
    """How a step reads in the step list: number, kind (an LLM step names its call), name,
    what changed in the window since the call before (LLM calls), and a failure mark."""
    mark = "✗ " if step["status"] == "error" else ""
    llm = step.get("llm")
    if llm:
        n = llm["call"]
        change = _change_words(diffs[n - 1]) if 0 < n <= len(diffs) else ""
        what = f"LLM call {n} · {llm.get('model') or llm.get('request_model') or step['name']}"
        return f"{mark}{step['index']}. {what}" + (f" · {change}" if change else "")
    return f"{mark}{step['index']}. {step['kind']} · {step['name']}"


def _change_words(diff: dict[str, Any]) -> str:
    counts = diff.get("messages") or {}
    if diff.get("previous_call") is None:
        return f"{counts.get('after') or 0} msgs" if counts.get("comparable") else ""
    parts = [f"+{counts['appended']}" if counts.get("appended") else ""]
    parts += [f"{counts[op]} {op}" for op in ("inserted", "removed", "changed") if counts.get(op)]
    labels = diff.get("labels") or []
    parts += [label.split("_")[0] + " changed" for label in labels if label.endswith("_changed")]
    return " ".join(p for p in parts if p) or ("same" if "unchanged" in labels else "")


def _step_list(shown: list[dict[str, Any]], diffs: list[dict[str, Any]], selected: int) -> None:
    by_index = {s["index"]: s for s in shown}
    st.session_state["run_step"] = selected

    def pick() -> None:
        set_param("step", st.session_state["run_step"])

    st.radio(
        "Steps",
        list(by_index),
        key="run_step",
        format_func=lambda i: step_label(by_index[i], diffs),
        on_change=pick,
        help="A step is a row of the timeline: an LLM call, a tool call, a decision or an "
        "escalation. LLM calls are numbered apart (call 1, 2, …).",
    )


_VERDICTS = {
    "flagged": ":red[**Hallucination flagged**]",
    "grounded": ":green[**Grounded**]",
    "unchecked": "**Unchecked**: the answer has no number, date, name, id or status to check",
}


def _verdict(verdict: dict[str, Any] | None) -> None:
    """The run's hallucination verdict, which signal decided it (a person's correction or
    score, the LLM judge, the model-free check), and each unsupported claim with the
    evidence value it was compared with."""
    if not verdict or verdict["verdict"] == "none":
        return
    line = _VERDICTS[verdict["verdict"]]
    by = verdict.get("decided_by") or []
    if by:
        line += " — decided by " + ", ".join(f"{d['name']} ({d['source']})" for d in by)
    st.markdown(line)
    claims = verdict.get("unsupported") or []
    if claims:
        st.markdown(f"**Unsupported claims** ({count(len(claims))})")
        st.dataframe(
            charts.frame(
                [
                    {"claim": c.get("text", ""), "kind": c.get("kind", ""),
                     "evidence had": c.get("evidence", "")}
                    for c in claims
                ]
            ),
            hide_index=True,
            key="run_unsupported",
        )  # fmt: skip


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
    counts = t["counts"]
    cols[0].metric("Status", t["status"])
    cols[1].metric("Duration", millis(t["duration_ms"]))
    cols[2].metric(
        "Steps",
        count(len(t["steps"])),
        help=f"Rows of the timeline: {count(counts['llm_calls'])} LLM calls, "
        f"{count(counts['tool_calls'])} tool calls, {count(counts['decisions'])} decisions, "
        f"{count(counts['escalations'])} escalations.",
    )
    cols[3].metric("LLM calls", count(counts["llm_calls"]))
    tokens = t["usage"]["total_tokens"]
    cols[4].metric("Tokens", _short_count(tokens), help=f"{count(tokens)} tokens")
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


def _session(ctx: Context, trace_id: str) -> None:
    """A link to the session the run belongs to (the run summary, read for its lineage too)."""
    session = ctx.get(f"/runs/{trace_id}", {"spans": "false"})["run"].get("session") or ""
    if session:
        link = ctx.link(page="sessions", session=session)
        st.markdown(f"Part of session [`{session}`]({link}): its runs in order.")


def _short_count(value: int | None) -> str:
    """A count that fits a metric: millions as ``19.6M``."""
    if value is not None and value >= 1_000_000:
        return f"{value / 1e6:.1f}M"
    return count(value)


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
                "step": s["index"],
                "label": _gantt_label(s),
                "kind": "error" if s["status"] == "error" else s["kind"],
                "duration": millis(s["duration_ms"]),
                "cost": money(s["cost_usd"]),
                "status": s["status"],
            }
        )
    return pl.DataFrame(rows)


def _gantt_label(step: dict[str, Any]) -> str:
    llm = step.get("llm")
    what = f"call {llm['call']}" if llm else step["kind"]
    return f"{step['index']:>2} {what} · {step['name']}"


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
