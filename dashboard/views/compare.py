"""Two runs side by side: their steps aligned, the first divergence marked."""

from __future__ import annotations

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
            f"{side['step_count']} steps · {millis(side['duration_ms'])} · "
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
        is_first = bool(first) and (
            pair.get("run_step") == first.get("run_step")
            and pair.get("against_step") == first.get("against_step")
        )
        rows.append(
            {
                "": "first" if is_first else "",
                "this run": _label(pair.get("run_step"), pair),
                "match": MATCH_ICONS.get(pair["match"], pair["match"]),
                "compared with": _label(pair.get("against_step"), pair),
                "what differs": _what(divergence),
            }
        )
    st.dataframe(charts.frame(rows), hide_index=True, key="compare_table")
    st.caption(
        f"{diff.get('divergences', 0)} aligned step(s) differ. = same · ≠ different · "
        "+ only in this run · − only in the other run."
    )


def _label(step: int | None, pair: dict[str, Any]) -> str:
    return "" if step is None else f"{step}. {pair['kind']} · {pair['name']}"


def _what(divergence: dict[str, Any]) -> str:
    if not divergence:
        return ""
    summary = str(divergence.get("summary", ""))
    return summary.split(": ", 1)[1] if ": " in summary else summary
