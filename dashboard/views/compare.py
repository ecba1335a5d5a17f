"""Two runs side by side: their steps aligned, the first divergence marked, and a divergence
(the first, or one picked) as the two runs' texts in two wrapped columns."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from .. import charts
from ..filters import trace_id_problem
from ..ui import Context, millis, money

MATCH_ICONS = {"same": "=", "different": "≠", "extra": "+", "missing": "−"}


def render_compare(ctx: Context, trace_id: str, against: str) -> None:
    problem = trace_id_problem(against)
    if problem:
        st.error(problem, icon=":material/block:")
        return
    if against == trace_id:
        st.info("That is the same run; pick another run to compare with.")
        return
    diff = ctx.get(f"/runs/{trace_id}/diff", {"against": against})
    st.markdown(f"[Back to this run alone →]({ctx.link(page='runs', run=trace_id)})")
    left, right = st.columns(2)
    for column, side, title in (
        (left, diff["run"], "This run"),
        (right, diff["against"], "Compared with"),
    ):
        column.subheader(title)
        column.markdown(
            f"`{side['trace_id']}` · {side['status']}\n\n"
            f"{side['steps']} steps · {millis(side['duration_ms'])} · "
            f"{money(side['cost_usd'])}"
        )
        column.markdown(f"[open ↗]({ctx.link(page='runs', run=side['trace_id'])})")
    first = diff.get("first_divergence")
    if diff.get("identical"):
        st.success("The two runs took the same steps with the same inputs and outputs.")
    elif first:
        st.error(f"**First divergence** — {first['summary']}", icon=":material/call_split:")
    rows = []
    for pair in diff["alignment"]:
        divergence = pair.get("divergence") or {}
        rows.append(
            {
                "": "first" if _is_first(pair, first) else "",
                "this run": _label(pair.get("run_step"), pair),
                "match": MATCH_ICONS.get(pair["match"], pair["match"]),
                "compared with": _label(pair.get("against_step"), pair),
                "what differs": str(divergence.get("type", "")).replace("_", " "),
            }
        )
    st.dataframe(charts.frame(rows), hide_index=True, key="compare_table")
    st.caption(
        f"{diff.get('divergences', 0)} aligned step(s) differ. = same · ≠ different · "
        "+ only in this run · − only in the other run."
    )
    _side_by_side(ctx, diff, first)


def _is_first(pair: dict[str, Any], first: dict[str, Any] | None) -> bool:
    return first is not None and (
        pair.get("run_step") == first.get("run_step")
        and pair.get("against_step") == first.get("against_step")
    )


def _side_by_side(ctx: Context, diff: dict[str, Any], first: dict[str, Any] | None) -> None:
    """One divergence (the first unless another is picked) as the two runs' texts, side by
    side and wrapped."""
    found = [p["divergence"] for p in diff["alignment"] if p.get("divergence")]
    if not found:
        return
    st.subheader("Side by side")
    at = next((i for i, d in enumerate(found) if first and d == first), 0)
    if len(found) > 1:
        picked = st.selectbox(
            "Divergence",
            range(len(found)),
            index=at,
            format_func=lambda i: str(found[i]["summary"]),
            key="compare_divergence",
        )
        chosen = found[picked]
    else:
        chosen = found[0]
        st.caption(str(chosen["summary"]))
    left, right = st.columns(2)
    for column, side, step, value in (
        (left, diff["run"], chosen.get("run_step"), chosen.get("run")),
        (right, diff["against"], chosen.get("against_step"), chosen.get("against")),
    ):
        with column:
            where = f"step {step}" if step else "no such step"
            st.markdown(f"**{'This run' if column is left else 'Compared with'}** · {where}")
            text = _side_text(ctx, side["trace_id"], step, chosen, value)
            st.code(text, language=None, wrap_lines=True)


def _side_text(
    ctx: Context, trace_id: str, step: int | None, divergence: dict[str, Any], value: Any
) -> str:
    """What one run had at the divergence, as text: the messages sent when the inputs differ
    (the diff holds only their hashes), else the value the diff names."""
    if step and divergence.get("type") == "different_input":
        steps = ctx.get_run(f"/runs/{trace_id}/timeline")["steps"]
        llm = steps[step - 1].get("llm") if step <= len(steps) else None
        if llm:
            call = ctx.get_run(f"/runs/{trace_id}/llm-calls/{llm['call']}")
            return window_text(call)
    if value is None:
        return "(nothing)"
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def window_text(call: dict[str, Any]) -> str:
    """An LLM call's window as plain text: system, then each message by role."""
    lines = []
    if call.get("system_instructions"):
        lines.append("[system] " + _parts_text(call["system_instructions"]))
    for message in call.get("input_messages") or []:
        lines.append(f"[{message.get('role', '?')}] " + _parts_text(message.get("parts") or []))
    return "\n\n".join(lines) or "(no messages captured)"


def _parts_text(parts: list[Any]) -> str:
    out = []
    for part in parts:
        if not isinstance(part, dict):
            out.append(str(part))
        elif part.get("type") == "text":
            out.append(str(part.get("content", "")))
        elif part.get("type") == "tool_call":
            out.append(f"→ {part.get('name')}({part.get('arguments')})")
        elif part.get("type") == "tool_call_response":
            out.append(f"← {part.get('response', part.get('result'))}")
        else:
            out.append(json.dumps(part, ensure_ascii=False))
    return " ".join(out)


def _label(step: int | None, pair: dict[str, Any]) -> str:
    return "" if step is None else f"{step}. {pair['kind']} · {pair['name']}"
