"""Decisions, escalations and scores: agentreel's conventions and the OTel GenAI
evaluation event.

- ``decision(...)``: a ``decision {name}`` span with ``agentreel.decision.*``;
- ``escalate(...)``: an ``escalation`` span with ``agentreel.escalation.*``;
- ``score(...)``/``feedback(...)``: a ``gen_ai.evaluation.result`` event on the span scored
  (a run is scored on its root span), or, when that span has already ended, on a short
  ``agentreel.score`` span in the same trace whose parent is the scored span.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags

from ._budget import CURRENT, before_step, count_step, start_span
from ._errors import guard
from ._state import STATE

SOURCES = ("human", "user_feedback", "llm_judge", "heuristic")
SEVERITIES = ("info", "warning", "critical")


def decision(
    name: str,
    options: Sequence[Any],
    chosen: Any,
    reason: str | None = None,
    confidence: float | None = None,
) -> None:
    """Record a routing or planning choice: which ``options`` the agent had, which it
    ``chosen``, why, and how sure it was (0..1). Counts as a step of the run."""
    before_step("decision")
    with guard("decision"):
        if not isinstance(options, Sequence) or isinstance(options, str | bytes):
            raise TypeError(f"decision options must be a list, not {type(options).__name__}")
        attributes: dict[str, Any] = {
            "agentreel.decision.name": str(name),
            "agentreel.decision.options": [str(o) for o in options],
            "agentreel.decision.chosen": str(chosen),
        }
        if reason is not None:
            attributes["agentreel.decision.reason"] = str(reason)
        if confidence is not None:
            attributes["agentreel.decision.confidence"] = _unit(confidence, "confidence")
        start_span(f"decision {name}", attributes).end()
    count_step("decision")


def escalate(reason: str, to: str = "human", *, severity: str = "warning", **details: Any) -> None:
    """Record a hand-off: ``reason`` (why), ``to`` (a human, a queue, another agent),
    ``severity`` (``info``, ``warning`` or ``critical``); ``details`` are kept as
    ``agentreel.escalation.<key>``."""
    with guard("escalate"):
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        attributes: dict[str, Any] = {
            "agentreel.span.kind": "escalation",
            "agentreel.escalation.reason": str(reason),
            "agentreel.escalation.target": str(to),
            "agentreel.escalation.severity": severity,
        }
        for key, value in details.items():
            attributes[f"agentreel.escalation.{key}"] = (
                value if isinstance(value, str | int | float | bool) else str(value)
            )
        start_span(f"escalate {to}", attributes).end()


def score(
    name: str,
    value: float | None = None,
    *,
    label: str | None = None,
    explanation: str | None = None,
    target: Any = None,
    source: str = "heuristic",
    comment: str | None = None,
    correction: str | None = None,
    response_id: str | None = None,
) -> None:
    """Attach a score to a run or a span.

    ``target``: a ``run`` scope, a span, a ``(trace_id, span_id)`` pair of hex strings, or
    None for the current run. ``value`` and/or ``label`` say the score; ``source`` is one of
    ``human``, ``user_feedback``, ``llm_judge``, ``heuristic``; a ``correction`` (the right
    answer) makes it a user correction.
    """
    with guard("score"):
        if value is None and label is None and correction is None:
            raise ValueError("a score needs a value, a label or a correction")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        attributes: dict[str, Any] = {
            "gen_ai.evaluation.name": str(name),
            "agentreel.score.source": source,
            "agentreel.score.kind": "correction" if correction is not None else "score",
        }
        if value is not None:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"score value must be a finite number, not {value!r}")
            attributes["gen_ai.evaluation.score.value"] = number
        for key, text in (
            ("gen_ai.evaluation.score.label", label),
            ("gen_ai.evaluation.explanation", explanation),
            ("gen_ai.response.id", response_id),
            ("agentreel.score.comment", comment),
            ("agentreel.score.correction", correction),
        ):
            if text is not None:
                attributes[key] = str(text)
        _emit(_target_span(target), attributes, _run_attributes(target))


def feedback(
    target: Any = None,
    value: float | None = None,
    *,
    comment: str | None = None,
    correction: str | None = None,
    label: str | None = None,
    name: str = "user_feedback",
) -> None:
    """A user's reaction to a run: a rating ``value`` (e.g. 1 / 0 / -1), a ``comment``, or a
    ``correction`` (what the answer should have been). Same targets as :func:`score`."""
    if value is None and label is None and correction is None and comment is not None:
        label = "comment"
    score(
        name,
        value,
        label=label,
        target=target,
        source="user_feedback",
        comment=comment,
        correction=correction,
    )


def _unit(value: Any, what: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} must be between 0 and 1, not {value!r}")
    return number


def _target_span(target: Any) -> Span:
    if target is None:
        state = CURRENT.get()
        if state is not None:
            return state.span
        span = trace.get_current_span()
        if not span.get_span_context().is_valid:
            raise ValueError("score() outside a run needs a target (a run, span or ids)")
        return span
    if isinstance(target, Span):
        return target
    scope_span = getattr(target, "span", None)  # a run scope
    if isinstance(scope_span, Span):
        return scope_span
    if isinstance(target, tuple | list) and len(target) == 2:
        trace_id, span_id = (int(str(part), 16) for part in target)
        context = SpanContext(trace_id, span_id, True, TraceFlags(TraceFlags.SAMPLED))
        if not context.is_valid:
            raise ValueError(f"invalid trace/span id pair {target!r}")
        return NonRecordingSpan(context)
    raise TypeError(f"cannot score a {type(target).__name__}: pass a run, a span or ids")


def _run_attributes(target: Any) -> dict[str, Any]:
    """Session, user, tags and agent of the run scored, for a score span made after it."""
    state = getattr(target, "state", None) if target is not None else CURRENT.get()
    if state is None or not hasattr(state, "attributes"):
        return {}
    return {**state.attributes, "gen_ai.agent.name": state.name}


def _emit(span: Span, attributes: dict[str, Any], stamp: dict[str, Any]) -> None:
    if span.is_recording():
        span.add_event("gen_ai.evaluation.result", attributes)
        return
    # The scored span has ended (feedback minutes later): a short span in its trace.
    parent = trace.set_span_in_context(NonRecordingSpan(span.get_span_context()))
    carrier = STATE.get_tracer().start_span(
        "agentreel.score",
        context=parent,
        attributes={**stamp, "agentreel.span.kind": "evaluator"},
    )
    carrier.add_event("gen_ai.evaluation.result", attributes)
    carrier.end()
