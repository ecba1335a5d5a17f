"""agentreel.sdk: instrument an agent in a few lines, on OpenTelemetry.

::

    from agentreel import sdk

    sdk.init(service_name="support-bot")          # local agentreel, openai/anthropic traced

    @sdk.tool
    def lookup_order(order_id: str) -> dict: ...

    with sdk.run("support", session="s-42", user="u-7", budget_usd=0.50):
        sdk.decision("route", options=["refund", "faq"], chosen="refund", reason="asks money back")
        ...                                         # openai / anthropic calls are traced
        sdk.escalate("customer is angry", to="human")

Everything it emits follows the OpenTelemetry GenAI conventions, so any OTel backend can
read it. The SDK never breaks the agent: its own errors are logged once (raised under
pytest), export failures and a full queue are counted (:func:`stats`), and a collector that
is down costs the agent nothing but the spans.
"""

from agentreel.core.redaction import READY_PATTERNS, Redactor

from ._budget import Breach, BudgetExceeded
from ._config import ConfigError, force_flush, init, shutdown, stats
from ._instrument import instrument_anthropic, instrument_openai, uninstrument
from ._manual import llm_call
from ._marks import decision, escalate, feedback, score
from ._rerun import (
    Divergence,
    RecordedToolError,
    Report,
    Rerun,
    RerunError,
    ToolNotRecorded,
    rerun,
)
from ._run import agent, run
from ._state import capture_content
from ._tool import tool

__all__ = [
    "READY_PATTERNS",
    "Breach",
    "BudgetExceeded",
    "ConfigError",
    "Divergence",
    "RecordedToolError",
    "Redactor",
    "Report",
    "Rerun",
    "RerunError",
    "ToolNotRecorded",
    "agent",
    "capture_content",
    "decision",
    "escalate",
    "feedback",
    "force_flush",
    "init",
    "instrument_anthropic",
    "instrument_openai",
    "llm_call",
    "rerun",
    "run",
    "score",
    "shutdown",
    "stats",
    "tool",
    "uninstrument",
]
