"""Collector metrics in Prometheus form (served at ``/metrics``)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per server, so several servers can live in one process (tests)."""

    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "agentreel_otlp_requests",
            "OTLP export requests by protocol, signal and outcome.",
            ["protocol", "signal", "outcome"],
            registry=r,
        )
        self.received = Counter(
            "agentreel_spans_received", "Spans (and log records) received.", ["signal"], registry=r
        )
        self.accepted = Counter(
            "agentreel_spans_accepted",
            "Spans written to the store (duplicates excluded).",
            registry=r,
        )
        self.duplicates = Counter(
            "agentreel_spans_duplicate",
            "Spans received again after they were stored (exporter retries), not stored twice.",
            registry=r,
        )
        self.rejected = Counter(
            "agentreel_spans_rejected",
            "Spans and log records refused on their own (listed in partial_success).",
            ["signal"],
            registry=r,
        )
        self.metric_points_dropped = Counter(
            "agentreel_otlp_metric_points_dropped",
            "OTLP metric data points accepted and not kept, by reason (not_genai: only the "
            "GenAI client metrics are kept).",
            ["reason"],
            registry=r,
        )
        self.content_bytes = Counter(
            "agentreel_content_bytes_written",
            "Bytes of new distinct content written to the content store.",
            registry=r,
        )
        self.write_seconds = Histogram(
            "agentreel_write_seconds",
            "Time to write one batch to the store.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.truncated = Counter(
            "agentreel_values_truncated",
            "Attribute values cut to max_attribute_length (a marker says how much was cut).",
            registry=r,
        )
        self.dropped_attributes = Counter(
            "agentreel_attributes_dropped",
            "Attributes dropped over max_attributes per span, event, log record or resource.",
            registry=r,
        )
        self.spool_bytes = Gauge(
            "agentreel_spool_bytes",
            "Bytes of acknowledged requests in the spool not yet stored (spool_max_bytes bounds it).",
            registry=r,
        )
        self.waiting = Gauge(
            "agentreel_waiting_spans",
            "Spans acknowledged and waiting to be written, in memory or only in the spool.",
            registry=r,
        )
        self.partitions_dropped = Counter(
            "agentreel_partitions_dropped",
            "Partitions the disk cap (max_disk_gb) dropped, oldest first.",
            registry=r,
        )
        self.partition_bytes_dropped = Counter(
            "agentreel_partition_bytes_dropped",
            "Bytes on disk of the partitions the disk cap dropped.",
            registry=r,
        )
        self.store_bytes = Gauge(
            "agentreel_store_bytes",
            "Bytes on disk of agentreel's tables, as of the last retention pass.",
            registry=r,
        )
        queue = Gauge(
            "agentreel_queue_spans", "Spans accepted and waiting to be written.", registry=r
        )
        queue.set_function(queue_depth)
