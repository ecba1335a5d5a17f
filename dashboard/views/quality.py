"""Quality: scores, hallucination flags and user corrections over time.

The data arrives with the quality work (``GET /api/v1/quality/daily``), which extends this
module. Until the server serves it, the page says what will be here and how scores are
sent, instead of failing.
"""

from __future__ import annotations

import streamlit as st

from ..client import Refused
from ..ui import Context

SCORE_SNIPPET = """\
span.add_event("gen_ai.evaluation.result", {
    "gen_ai.evaluation.name": "helpfulness",
    "gen_ai.evaluation.score.value": 0.9,
    "agentreel.score.source": "llm_judge",   # or human, user_feedback, heuristic
})"""


def render(ctx: Context) -> None:
    try:
        ctx.get("/quality/daily", ctx.params)
    except Refused as exc:
        if exc.status != 404:
            raise
        _empty()
        return
    st.info("This server stores quality scores; their charts ship with the quality work.")


def _empty() -> None:
    st.info(
        "**Quality scores are not served by this server yet.** Scores, hallucination flags "
        "and user corrections over time appear here once evaluators run (the quality work: "
        "`GET /api/v1/quality/daily`).",
        icon=":material/science:",
    )
    st.markdown(
        "Scores already travel with your spans: put an OpenTelemetry GenAI evaluation event "
        "on the span you score (a run is scored on its root span), and agentreel keeps it:"
    )
    st.code(SCORE_SNIPPET, language="python")
