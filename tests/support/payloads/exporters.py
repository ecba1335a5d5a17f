"""Exporters that keep what they are given and encode it as the OTLP exporters would send it.

The bytes are what ``OTLPSpanExporter`` / ``OTLPLogExporter`` put on the wire: the protobuf
``ExportTraceServiceRequest`` / ``ExportLogsServiceRequest`` built by the shared OTLP encoders.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class CollectingSpanExporter(SpanExporter):
    """Keeps every exported span; :meth:`request_bytes` encodes them all as one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self._spans.extend(spans)
        return SpanExportResult.SUCCESS

    @property
    def spans(self) -> list[ReadableSpan]:
        """The spans exported so far, in export (end) order."""
        with self._lock:
            return list(self._spans)

    def request_bytes(self) -> bytes:
        """One serialized ``ExportTraceServiceRequest`` with every span kept."""
        payload: bytes = encode_spans(self.spans).SerializeToString()
        return payload


class CollectingLogExporter(LogRecordExporter):
    """Keeps every exported log record; :meth:`request_bytes` encodes them as one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[ReadableLogRecord] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        with self._lock:
            self._records.extend(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Records are kept on export: nothing is pending."""
        return True

    @property
    def records(self) -> list[ReadableLogRecord]:
        """The log records exported so far, in order."""
        with self._lock:
            return list(self._records)

    def request_bytes(self) -> bytes:
        """One serialized ``ExportLogsServiceRequest`` with every record kept."""
        payload: bytes = encode_logs(self.records).SerializeToString()
        return payload
