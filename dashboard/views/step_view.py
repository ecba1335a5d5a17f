"""The selected step of a run's page. An LLM call shows its model, usage and re-run command,
then its context window: on call 1 all of it; later, what changed since the call before in
full and the unchanged rest folded (a toggle shows it). Only this call's window is fetched
(``/runs/{trace_id}/llm-calls/{n}``), and a long text is cut at ``SHOWN_CHARS``. Tool calls
show arguments beside results; decisions their options and reason; escalations to whom."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ..ui import Context, count, millis, money
from .rerun import render_rerun_from

KIND_ICONS = {
    "llm": ":material/psychology:",
    "tool": ":material/build:",
    "decision": ":material/alt_route:",
    "escalation": ":material/support_agent:",
}


def render_step(
    ctx: Context, trace_id: str, step: dict[str, Any], diffs: list[dict[str, Any]]
) -> None:
    """The step: its outcome, then what its kind shows; ``diffs`` are the run's call diffs."""
    icon = ":material/error:" if step["status"] == "error" else KIND_ICONS.get(step["kind"], "•")
    llm = step.get("llm")
    what = f"LLM call {llm['call']}" if llm else step["kind"]
    title = f"{icon} Step {step['index']} · {what} · {step['name']}"
    if step.get("duration_ms") is not None and step.get("start_time"):
        title += f" · {millis(step['duration_ms'])}"
    if step.get("cost_usd"):
        title += f" · {money(step['cost_usd'])}"
    st.markdown(f"#### {title}")
    if step["status"] == "error":
        st.error(step.get("error") or "this step failed")
    if step.get("missing"):
        st.caption("Not captured: " + ", ".join(step["missing"]))
    if step["kind"] == "llm":
        _llm_step(ctx, trace_id, step, diffs)
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
    ctx: Context, trace_id: str, step: dict[str, Any], diffs: list[dict[str, Any]]
) -> None:
    llm = step["llm"]
    n = llm["call"]
    usage = step["usage"] or {}
    st.markdown(
        f"**Model** `{llm['model'] or llm['request_model']}` ({llm['provider']}) · "
        f"**tokens** {count(usage.get('input_tokens'))} in "
        f"({count(usage.get('cache_read_tokens'))} cached) / "
        f"{count(usage.get('output_tokens'))} out · **finish** "
        f"{', '.join(llm['finish_reasons']) or '—'}"
    )
    render_rerun_from(trace_id, n)
    diff = diffs[n - 1] if 0 < n <= len(diffs) else {}
    call = ctx.get_run(f"/runs/{trace_id}/llm-calls/{n}")  # this call's window, and only this one
    offered = [str(t.get("name", "?")) for t in call.get("tool_definitions") or []]
    params = ", ".join(f"{k}={v}" for k, v in (call.get("parameters") or {}).items())
    if offered or params:
        st.caption(
            (f"Tools offered: {', '.join(offered)}. " if offered else "")
            + (f"Parameters: {params}." if params else "")
        )
    _window(call, diff, n)
    outputs = call.get("output_messages") or []
    if outputs:
        st.markdown("**Output**")
    elif step["status"] == "error":
        st.markdown("**Output**: none, the call failed (its error is above).")
    else:
        st.markdown("**Output**: not captured by the instrumentation.")
    for message in outputs:
        _message(message.get("role", "assistant"), message.get("parts") or [])


def _window(call: dict[str, Any], diff: dict[str, Any], n: int) -> None:
    """The context window: on call 1 all of it; later, what changed since the call before in
    full and what did not folded (a toggle shows it), so a long conversation is not repeated
    at every call."""
    messages = call.get("input_messages")
    if messages is None:
        st.caption("The input messages of this call were not captured.")
        return
    changes = diff.get("changes") or []
    marks = {c["index"]: c["op"] for c in changes if c.get("index") is not None}
    removed = [c for c in changes if c["op"] == "removed"]
    system = call.get("system_instructions")
    system_changed = bool((diff.get("system_instructions") or {}).get("changed"))
    if n == 1 or not (diff.get("messages") or {}).get("comparable"):
        st.caption(f"Context window of call {n}: {diff.get('summary') or 'as sent'}")
        if system:
            _message("system", system)
        for message in messages:
            _message(message.get("role", "?"), message.get("parts") or [])
        return
    st.markdown(f"**What changed since call {n - 1}**: {diff.get('summary', '')}")
    kept = len(messages) - len(marks) + (0 if not system or system_changed else 1)
    show_all = kept > 0 and st.toggle(
        f"Show the {count(kept)} unchanged part(s) of the window too",
        key=f"run_unchanged_{n}",
        help=f"Messages (and system instructions) call {n} sent as call {n - 1} did.",
    )
    if system and (system_changed or show_all):
        _message("system" + (" :orange-badge[changed]" if system_changed else ""), system)
    folded = 0
    for index, message in enumerate(messages):
        op = marks.get(index)
        if op is None and not show_all:
            folded += 1
            continue
        if folded:
            st.caption(f"⋯ {count(folded)} unchanged message(s) folded")
            folded = 0
        colour = "green" if op in ("appended", "inserted") else "orange"
        badge = f" :{colour}-badge[{op} since call {n - 1}]" if op else ""
        _message(f"{message.get('role', '?')}{badge}", message.get("parts") or [])
    if folded:
        st.caption(f"⋯ {count(folded)} unchanged message(s) folded")
    for change in removed:
        st.markdown(f":red-badge[removed since call {n - 1}] {change.get('role', '')} message")


#: Characters of one text shown before the rest is cut (a 100k-token document stays readable
#: and the browser light); ``agentreel replay --call N --full`` prints it whole.
SHOWN_CHARS = 20_000


def _text(text: str, code: str | None = None) -> None:
    cut = text[:SHOWN_CHARS]
    if code is None:
        st.text(cut)
    else:
        st.code(cut, language=code, wrap_lines=True)
    if len(text) > SHOWN_CHARS:
        st.caption(
            f"… {count(len(text) - SHOWN_CHARS)} more characters not shown "
            "(`agentreel replay TRACE --call N --full` prints them)"
        )


def _message(label: str, parts: list[dict[str, Any]]) -> None:
    with st.container(border=True):
        st.markdown(f"**{label}**")
        for part in parts:
            kind = part.get("type")
            if kind == "text":
                _text(str(part.get("content", "")))
            elif kind == "tool_call":
                st.markdown(f"calls tool `{part.get('name')}` (id `{part.get('id')}`)")
                _text(_pretty(part.get("arguments")), "json")
            elif kind == "tool_call_response":
                st.markdown(f"result of `{part.get('id')}`")
                _text(_pretty(part.get("response")), "json")
            else:
                _text(_pretty(part), "json")


def _tool_step(step: dict[str, Any]) -> None:
    tool = step["tool"]
    requested = tool.get("requested_by")
    st.markdown(
        f"**Tool** `{tool['name']}` · call id `{tool.get('call_id') or '—'}`"
        + (f" · requested by step {requested}" if requested else "")
    )
    left, right = st.columns(2)
    left.markdown("**Arguments**")
    with left:
        _text(_pretty(tool.get("arguments")), "json")
    right.markdown("**Result**")
    if tool.get("result") is None:
        right.caption("no result (the call failed or its result was not captured)")
    else:
        with right:
            _text(_pretty(tool.get("result")), "json")


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
