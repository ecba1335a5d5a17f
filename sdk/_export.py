"""The export path: redaction before spans leave the process, a bounded queue whose drops
are counted, and exporter failures that never reach the agent (logged once).

Redaction and encoding run on the batch processor's thread, not in the agent's.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, Status

from agentreel.core.redaction import Redactor

from ._errors import log, log_once

#: Attributes holding JSON text: redacted string by string inside, so they stay JSON.
JSON_ATTRIBUTES = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
    }
)


#: Most spans in one export request (OpenTelemetry's default).
MAX_EXPORT_BATCH = 512


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int = 1) -> int:
        with self._lock:
            self.value += n
            return self.value


class SpanRedactor:
    """Redacts the name, the scope name, every string attribute, event name and attribute,
    link attribute and the status message of a span."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def span(self, span: ReadableSpan) -> ReadableSpan:
        counts: dict[str, int] = {}
        name = self._leaves(span.name, counts)
        attributes = self._attributes(span.attributes or {}, counts)
        events = [
            Event(
                self._leaves(e.name, counts), self._attributes(e.attributes or {}, counts),
                e.timestamp,
            )
            for e in span.events
        ]  # fmt: skip
        links = [Link(k.context, self._attributes(k.attributes or {}, counts)) for k in span.links]
        status = span.status
        if status.description:
            text, found = self.redactor.redact(status.description)
            _add(counts, found)
            status = Status(status.status_code, text)
        scope = span.instrumentation_scope
        if scope is not None and scope.name:
            scope_name = self._leaves(scope.name, counts)
            if scope_name != scope.name:
                scope = InstrumentationScope(
                    scope_name, scope.version, scope.schema_url, scope.attributes
                )
        if not counts:
            return span
        attributes["agentreel.core.redaction.count"] = sum(counts.values())
        for rule, n in counts.items():
            attributes[f"agentreel.core.redaction.{rule}"] = n
        return ReadableSpan(
            name=name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=events,
            links=links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=scope,
        )

    def _attributes(self, attributes: Any, counts: dict[str, int]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in attributes.items():
            if isinstance(value, str):
                value = self._text(key, value, counts)
            elif isinstance(value, tuple | list) and value and isinstance(value[0], str):
                value = [self._text(key, v, counts) for v in value]
            out[key] = value
        return out

    def _text(self, key: str, text: str, counts: dict[str, int]) -> str:
        if key in JSON_ATTRIBUTES:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if parsed is not None:
                redacted = self._leaves(parsed, counts)
                return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        new, found = self.redactor.redact(text)
        _add(counts, found)
        return new

    def _leaves(self, value: Any, counts: dict[str, int]) -> Any:
        if isinstance(value, str):
            new, found = self.redactor.redact(value)
            _add(counts, found)
            return new
        if isinstance(value, list):
            return [self._leaves(v, counts) for v in value]
        if isinstance(value, dict):
            return {k: self._leaves(v, counts) for k, v in value.items()}
        return value


def _add(counts: dict[str, int], found: dict[str, int]) -> None:
    for rule, n in found.items():
        counts[rule] = counts.get(rule, 0) + n


class SafeExporter(SpanExporter):
    """Wraps the OTLP exporter: redacts first, never raises, counts failed batches and
    logs the first failure once."""

    def __init__(self, exporter: SpanExporter, redactor: SpanRedactor | None = None) -> None:
        self.exporter = exporter
        self.redactor = redactor
        self.failed_batches = _Counter()
        self.failed_spans = _Counter()
        self.exported_spans = _Counter()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            if self.redactor is not None:
                spans = [self._redact(s) for s in spans]
            result = self.exporter.export(spans)
        except Exception as exc:
            log_once("export", exc)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.exported_spans.add(len(spans))
        else:
            self.failed_spans.add(len(spans))
            if self.failed_batches.add() == 1:
                log.warning(
                    "agentreel.sdk: spans could not be sent to the collector; the agent runs on "
                    "and later failures are counted, not logged (see agentreel.sdk.stats())"
                )
        return result

    def _redact(self, span: ReadableSpan) -> ReadableSpan:
        assert self.redactor is not None
        try:
            return self.redactor.span(span)
        except Exception as exc:  # a user's redaction function failing: drop, never leak
            log_once("redaction", exc)
            raise

    def shutdown(self) -> None:
        try:
            self.exporter.shutdown()
        except Exception as exc:
            log_once("exporter shutdown", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        try:
            return bool(self.exporter.force_flush(timeout_millis))
        except Exception as exc:
            log_once("exporter flush", exc)
            return False


class BoundedBatchProcessor(SpanProcessor):
    """OpenTelemetry's BatchSpanProcessor with a bounded queue whose drops are counted and
    logged once (the stock one logs every dropped span)."""

    def __init__(self, exporter: SpanExporter, max_queue_size: int, shutdown_timeout_s: float):
        self.batch = BatchSpanProcessor(
            exporter,
            max_queue_size=max_queue_size,
            max_export_batch_size=min(MAX_EXPORT_BATCH, max_queue_size),
        )
        self.max_queue_size = max_queue_size
        self.shutdown_timeout_s = shutdown_timeout_s
        self.dropped = _Counter()
        # The queue's length, read without a lock (a dropped span too many is harmless).
        inner = getattr(self.batch, "_batch_processor", None)
        self._queue: Any = getattr(inner, "_queue", None)

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        queue = self._queue
        if queue is not None and len(queue) >= self.max_queue_size:
            if self.dropped.add() == 1:
                log.warning(
                    "agentreel.sdk: the export queue is full (%d spans; the collector is down "
                    "or slow); new spans are dropped and counted (agentreel.sdk.stats())",
                    self.max_queue_size,
                )
            return
        self.batch.on_end(span)

    def shutdown(self) -> None:
        self.batch._batch_processor.shutdown(int(self.shutdown_timeout_s * 1000))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.batch.force_flush(timeout_millis))


class OnceFilter(logging.Filter):
    """Lets each distinct message of the OTel exporter loggers through once: a collector
    that is down makes them log every batch otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
