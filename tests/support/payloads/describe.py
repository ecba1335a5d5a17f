"""Print what a captured payload holds: spans (tree, scope, kind, attributes) and log records.

``python tests/support/payloads/describe.py FILE... [--full]`` takes ``.traces.pb`` and
``.logs.pb`` files (``tests/support/payloads/openinference_openai.traces.pb``, say); values are
cut to 100 characters unless ``--full``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

_KINDS = {k: v.removeprefix("SPAN_KIND_") for v, k in Span.SpanKind.items()}


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a plain Python value."""
    which = value.WhichOneof("value")
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which) if which else None


def _show(value: Any, full: bool) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = repr(text) if isinstance(value, str) else text
    return text if full or len(text) <= 100 else text[:97] + "..."


def describe_traces(raw: bytes, full: bool) -> None:
    """Print every span of an ``ExportTraceServiceRequest``, parents before children."""
    request = ExportTraceServiceRequest.FromString(raw)
    rows: list[tuple[str, Span]] = []
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            scope = f"{scope_spans.scope.name} {scope_spans.scope.version}".strip()
            rows += [(scope, span) for span in scope_spans.spans]
    names = {span.span_id: span.name for _, span in rows}
    for scope, span in sorted(rows, key=lambda row: row[1].start_time_unix_nano):
        parent = names.get(span.parent_span_id, "-") if span.parent_span_id else "(root)"
        print(f"\n== {span.name!r} kind={_KINDS[span.kind]} scope={scope!r} parent={parent!r}")
        if span.status.code:
            print(f"   status={span.status.code} {span.status.message!r}")
        for kv in span.attributes:
            print(f"   {kv.key} = {_show(any_value(kv.value), full)}")
        for event in span.events:
            print(f"   event {event.name}: {[kv.key for kv in event.attributes]}")


def describe_logs(raw: bytes, full: bool) -> None:
    """Print every record of an ``ExportLogsServiceRequest``."""
    request = ExportLogsServiceRequest.FromString(raw)
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                print(
                    f"\n== event={record.event_name!r} scope={scope_logs.scope.name!r} "
                    f"span_id={record.span_id.hex()} severity={record.severity_number}"
                )
                for kv in record.attributes:
                    print(f"   attr {kv.key} = {_show(any_value(kv.value), full)}")
                print(f"   body = {_show(any_value(record.body), full)}")


def main() -> None:
    """Describe each file given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    for path in args.files:
        print(f"##### {path.name}")
        describe = describe_logs if path.name.endswith(".logs.pb") else describe_traces
        describe(path.read_bytes(), args.full)


if __name__ == "__main__":
    main()
