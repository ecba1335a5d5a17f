"""Scores carried by spans: OTel ``gen_ai.evaluation.result`` events (see the README's score
convention). An event sits on the span it scores; an ``agentreel.score`` span (kind
``evaluator``) carries the event for its parent, a span that had already ended. An event on
a root span scores the run."""

from __future__ import annotations

import logging

import orjson

from agentreel.core.model import Span
from agentreel.core.scores import EVALUATION_EVENT, Score, ScoreError, from_event

log = logging.getLogger("agentreel.collector")

#: Name of the short span the SDK sends to score a span that has already ended.
SCORE_SPAN = "agentreel.score"


def scores_of(span: Span) -> tuple[list[Score], list[str]]:
    """The valid scores among the span's evaluation events, and a warning per malformed one."""
    if EVALUATION_EVENT not in span.events:
        return [], []
    if span.name == SCORE_SPAN and span.kind == "evaluator" and span.parent_span_id:
        scored = span.parent_span_id
    else:
        scored = "" if not span.parent_span_id else span.span_id
    scores, warnings = [], []
    for event in orjson.loads(span.events):
        if event.get("name") != EVALUATION_EVENT:
            continue
        try:
            scores.append(
                from_event(event.get("attributes") or {}, span.trace_id, scored, event["time_ns"])
            )
        except ScoreError as exc:
            warnings.append(f"score not stored: {exc}")
    return scores, warnings


def check_scores(span: Span) -> None:
    """Warn on the span about evaluation events that cannot be stored as scores."""
    _, warnings = scores_of(span)
    span.warnings.extend(warnings)
