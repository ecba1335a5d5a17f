"""Scores: one validated model for a score however it arrived (REST, OTel evaluation event,
an evaluator), and the checks that refuse a malformed one with a message naming the field.

A score judges a run (``span_id`` empty: the run is scored on its root span) or one span. Its
value is numeric (a finite number), boolean (stored as 1/0 with label ``true``/``false``) or
categorical (a label, no number). ``kind`` is ``score`` or ``correction``: a user's corrected
answer is its own kind, with the corrected text in ``correction``.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from agentreel.core.model import Span

SOURCES = ("human", "user_feedback", "llm_judge", "heuristic")
KINDS = ("score", "correction")
DATA_TYPES = ("numeric", "boolean", "categorical")

#: The OTel GenAI evaluation event and its attributes (plus agentreel's own).
EVALUATION_EVENT = "gen_ai.evaluation.result"
#: Name of the short span the SDK sends to score a span that has already ended.
SCORE_SPAN = "agentreel.score"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_TEXT = 64 * 1024


class ScoreError(ValueError):
    """A score is malformed; the message names the field."""


@dataclass(frozen=True)
class Score:
    trace_id: str
    name: str
    source: str
    data_type: str
    value: float | None
    label: str = ""
    span_id: str = ""
    kind: str = "score"
    comment: str = ""
    explanation: str = ""
    correction: str = ""
    response_id: str = ""
    details: str = ""
    time_ms: int = 0
    score_id: str = ""

    def row(self, project: str) -> list[Any]:
        """The row for the ``scores`` table, in the order of ``agentreel.storage.scores.COLUMNS``."""
        return [
            project,
            self.trace_id,
            self.span_id,
            self.score_id,
            self.time_ms,
            self.name,
            self.kind,
            self.data_type,
            self.value,
            self.label,
            self.source,
            self.comment,
            self.explanation,
            self.correction,
            self.response_id,
            self.details,
        ]


def stable_id(*parts: str) -> str:
    """A score id that is the same each time the same thing is scored (idempotent writes)."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def parse_score(entry: Any, default_source: str = "human") -> Score:
    """A :class:`Score` from one JSON entry of ``POST /api/v1/scores``; raises
    :class:`ScoreError` naming the field that is wrong."""
    if not isinstance(entry, Mapping):
        raise ScoreError("an entry must be a JSON object")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ScoreError(f"{unknown[0]}: unknown field (known: {', '.join(sorted(_FIELDS))})")
    trace_id = _text(entry, "trace_id", required=True).lower()
    if not _TRACE_ID.match(trace_id):
        raise ScoreError("trace_id: must be 32 hex digits")
    span_id = _text(entry, "span_id").lower()
    if span_id and not _SPAN_ID.match(span_id):
        raise ScoreError("span_id: must be 16 hex digits")
    name = _text(entry, "name", required=True)
    source = _choice(entry, "source", SOURCES, default_source)
    kind = _choice(entry, "kind", KINDS, "score")
    correction = _text(entry, "correction")
    if kind == "correction" and not correction:
        raise ScoreError("correction: a correction needs the corrected text")
    data_type, value, label = _value(entry, kind)
    when = entry.get("time")
    time_ms = _time_ms(when) if when is not None else int(time.time() * 1000)
    score_id = _text(entry, "id") or uuid.uuid4().hex
    return Score(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        source=source,
        kind=kind,
        data_type=data_type,
        value=value,
        label=label,
        comment=_text(entry, "comment"),
        explanation=_text(entry, "explanation"),
        correction=correction,
        response_id=_text(entry, "response_id"),
        time_ms=time_ms,
        score_id=score_id,
    )


_FIELDS = frozenset(
    {
        "id",
        "trace_id",
        "span_id",
        "name",
        "value",
        "label",
        "data_type",
        "source",
        "kind",
        "comment",
        "explanation",
        "correction",
        "response_id",
        "time",
    }
)


def _value(entry: Mapping[str, Any], kind: str) -> tuple[str, float | None, str]:
    """(data type, number, label), the type given or inferred from the value."""
    raw = entry.get("value")
    label = _text(entry, "label")
    declared = entry.get("data_type")
    if declared is not None and declared not in DATA_TYPES:
        raise ScoreError(f"data_type: must be one of {', '.join(DATA_TYPES)}")
    if declared is None:
        if isinstance(raw, bool):
            declared = "boolean"
        elif isinstance(raw, int | float):
            declared = "numeric"
        elif isinstance(raw, str) or (raw is None and label):
            declared = "categorical"
        elif raw is None and kind == "correction":
            return "categorical", None, label
        else:
            raise ScoreError("value: a number, true/false or a category label is required")
    if declared == "boolean":
        if not isinstance(raw, bool):
            raise ScoreError(f"value: expected true or false, got {_type_name(raw)}")
        return "boolean", float(raw), label or ("true" if raw else "false")
    if declared == "numeric":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ScoreError(f"value: expected a number, got {_type_name(raw)}")
        if not math.isfinite(raw):
            raise ScoreError(f"value: must be a finite number, got {raw}")
        return "numeric", float(raw), label
    # categorical
    category = raw if raw is not None else label
    if not isinstance(category, str) or not category:
        raise ScoreError(f"value: expected a category label, got {_type_name(raw)}")
    return "categorical", None, category


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__.replace("str", "string")


def _text(entry: Mapping[str, Any], field: str, required: bool = False) -> str:
    value = entry.get(field)
    if value is None or value == "":
        if required:
            raise ScoreError(f"{field}: required")
        return ""
    if not isinstance(value, str):
        raise ScoreError(f"{field}: expected a string, got {_type_name(value)}")
    if len(value) > MAX_TEXT:
        raise ScoreError(f"{field}: longer than {MAX_TEXT} characters")
    return value


def _choice(entry: Mapping[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = entry.get(field, default)
    if value not in allowed:
        raise ScoreError(f"{field}: must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _time_ms(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value * 1000)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1000)
    raise ScoreError("time: must be ISO 8601 or epoch seconds")


def from_event(attributes: Mapping[str, Any], trace_id: str, span_id: str, time_ns: int) -> Score:
    """A :class:`Score` from a ``gen_ai.evaluation.result`` event's attributes (the contract's
    score convention); raises :class:`ScoreError` when the event is malformed."""
    name = attributes.get("gen_ai.evaluation.name")
    if not isinstance(name, str) or not name:
        raise ScoreError("gen_ai.evaluation.name: required")
    entry: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "name": name,
        "source": attributes.get("agentreel.score.source", "heuristic"),
        "kind": attributes.get("agentreel.score.kind", "score"),
        "id": stable_id(trace_id, span_id, str(time_ns), name),
        "time": time_ns / 1e9,
    }
    for key, field in _EVENT_FIELDS.items():
        value = attributes.get(key)
        if value is not None:
            entry[field] = value if isinstance(value, str) else str(value)
    raw = attributes.get("gen_ai.evaluation.score.value")
    if raw is not None:
        if isinstance(raw, str):  # sent as text by some emitters
            try:
                raw = float(raw)
            except ValueError:
                raise ScoreError("gen_ai.evaluation.score.value: not a number") from None
        entry["value"] = raw
        entry["data_type"] = "numeric"
    try:
        return parse_score(entry, default_source="heuristic")
    except ScoreError as exc:
        raise ScoreError(f"{EVALUATION_EVENT}: {exc}") from None


_EVENT_FIELDS = {
    "gen_ai.evaluation.score.label": "label",
    "gen_ai.evaluation.explanation": "explanation",
    "gen_ai.response.id": "response_id",
    "agentreel.score.comment": "comment",
    "agentreel.score.correction": "correction",
}


def of_span(span: Span) -> tuple[list[Score], list[str]]:
    """The valid scores among the span's evaluation events, and a warning per malformed one.

    An event sits on the span it scores; an ``agentreel.score`` span (kind ``evaluator``)
    carries the event for its parent, a span that had already ended. An event on a root span
    scores the run."""
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
