"""The shapes data takes through the collector: decoded OTLP, then one normalized span model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentreel.core.scores import Score

#: Span kinds of the normalized model.
KINDS = (
    "llm",
    "tool",
    "agent",
    "chain",
    "retriever",
    "embedding",
    "guardrail",
    "decision",
    "evaluator",
    "escalation",
    "span",
)

#: Content items a span may carry, stored once each in the content store.
CONTENT_SLOTS = ("system", "input", "output", "tools", "tool_arguments", "tool_result")

#: Bit per slot in ``Span.content_flags``: set when the span carried that content.
CONTENT_FLAG = {slot: 1 << i for i, slot in enumerate(CONTENT_SLOTS)}


@dataclass(slots=True)
class Resource:
    """Attributes of the process that produced spans, shared by the spans it sent."""

    attributes: dict[str, Any]
    #: The attributes as stored (text values), computed once for all the spans that share it.
    as_text: dict[str, str] | None = None

    @property
    def service(self) -> str:
        value = self.attributes.get("service.name", "")
        return value if isinstance(value, str) else str(value)


@dataclass(slots=True)
class DecodedEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class DecodedSpan:
    """One OTLP span as received, with AnyValues turned into Python values."""

    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    name: str
    otel_kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[DecodedEvent]
    status_code: int
    status_message: str
    resource: Resource
    scope_name: str
    scope_version: str
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class DecodedLog:
    """One OTLP log record; GenAI ≤1.36 message events arrive this way."""

    trace_id: bytes
    span_id: bytes
    time_ns: int
    event_name: str
    attributes: dict[str, Any]
    body: Any
    resource: Resource
    scope_name: str
    seq: int


@dataclass(slots=True)
class Rejection:
    """A span or log record refused on its own; the rest of the request goes on."""

    index: int
    reason: str


@dataclass(slots=True)
class Decoded:
    """What one OTLP request decoded to."""

    spans: list[DecodedSpan] = field(default_factory=list)
    logs: list[DecodedLog] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(slots=True)
class ContentItem:
    """A distinct piece of content, addressed by the hash of its canonical bytes."""

    hash: bytes
    kind: str
    body: bytes


@dataclass(slots=True)
class Span:
    """The normalized span: one model whatever convention the span arrived in."""

    project: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    otel_kind: str
    start_ns: int
    end_ns: int
    status: str = "unset"
    error_type: str = ""
    error_message: str = ""
    service: str = ""
    scope: str = ""
    convention: str = "generic"
    operation: str = ""
    model: str = ""
    request_model: str = ""
    provider: str = ""
    agent: str = ""
    session: str = ""
    user: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    cost_source: str = ""
    counted: bool = True
    response_id: str = ""
    tool_name: str = ""
    tool_call_id: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    resource: dict[str, str] = field(default_factory=dict)
    events: str = ""
    warnings: list[str] = field(default_factory=list)
    # Content, by reference into the content store.
    content_flags: int = 0
    system_ref: bytes = b""
    input_refs: list[bytes] = field(default_factory=list)
    output_refs: list[bytes] = field(default_factory=list)
    output_finish_reasons: list[str] = field(default_factory=list)
    tools_ref: bytes = b""
    tool_arguments_ref: bytes = b""
    tool_result_ref: bytes = b""
    attribute_refs: dict[str, bytes] = field(default_factory=dict)
    contents: list[ContentItem] = field(default_factory=list)
    #: Scores its evaluation events carry, read once when the span is normalized.
    scores: list[Score] = field(default_factory=list)
    #: Input messages' items, when they came through the prefix cache (``MessageGroup``).
    input_group: Any = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.project, self.trace_id, self.span_id)


@dataclass(slots=True)
class MessageEvent:
    """A message carried by a log record (GenAI ≤1.36 events), joined to its span on read."""

    project: str
    trace_id: str
    span_id: str
    time_ns: int
    seq: int
    event_name: str
    direction: str
    ref: bytes
    contents: list[ContentItem] = field(default_factory=list)


@dataclass(slots=True)
class MetricPoint:
    """One histogram data point of a GenAI client metric, as the client reported it
    (``gen_ai.client.token.usage`` is ``token.usage``, ``gen_ai.client.operation.duration``
    is ``operation.duration``); cumulative points are kept as they came, not differenced."""

    metric: str
    service: str
    temporality: str  # "delta" | "cumulative"
    start_ns: int
    time_ns: int
    operation: str
    provider: str
    request_model: str
    response_model: str
    token_type: str
    error_type: str
    count: int
    sum: float
    bounds: list[float]
    bucket_counts: list[int]
    project: str = ""


@dataclass(slots=True)
class Batch:
    """Normalized output of one request, ready for the writer."""

    spans: list[Span] = field(default_factory=list)
    messages: list[MessageEvent] = field(default_factory=list)
    #: GenAI client metric points (an OTLP metrics request carries only these).
    points: list[MetricPoint] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
