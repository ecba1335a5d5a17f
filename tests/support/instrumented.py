"""Run the weather scenario under one instrumentor configuration, exporting over real OTLP.

Used by tests as a subprocess (instrumentors patch the clients globally, so each
configuration needs a fresh interpreter)::

    python -m instrumented NAME --protocol grpc|http --http URL --grpc HOST:PORT

It prints one JSON line: the run's trace id and, per request the fake provider received,
the body and the usage it answered with.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from support.paths import TESTS
from support.payloads.capture import _OWN_PREFIXES, CONFIGS, run_scenario

#: What each configuration is known not to capture, or gets wrong upstream.
GAPS: dict[str, set[str]] = {
    # opentelemetry-instrumentation-openai-v2 records neither cached nor reasoning tokens.
    "otel_genai_openai_latest": {"cache", "reasoning"},
    "otel_genai_openai_events": {"cache", "reasoning"},
    # OpenLLMetry reads reasoning tokens from non-streamed responses only.
    "openllmetry_openai_stream": {"reasoning"},
}
#: OpenLLMetry's Anthropic streaming adds message_start's output tokens once per call. The
#: Anthropic SDK's own span for the same call has the right figure; whichever of the two is
#: stored first is the one counted, so either total is right as long as it counts once.
OUTPUT_SURPLUS = {"openllmetry_anthropic_stream": 1}


def worker(name: str, protocol: str, http_url: str, grpc_endpoint: str) -> dict[str, Any]:
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from support.payloads import scenario

    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        spans = OTLPSpanExporter(endpoint=grpc_endpoint, insecure=True)
        logs = OTLPLogExporter(endpoint=grpc_endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (
            OTLPLogExporter as HttpLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        spans = HttpSpanExporter(endpoint=http_url + "/v1/traces")
        logs = HttpLogExporter(endpoint=http_url + "/v1/logs")

    done = run_scenario(
        name,
        BatchSpanProcessor(spans),
        BatchLogRecordProcessor(logs),
        f"it-{name}",
        f"{scenario.SESSION_ID}-{name}-{protocol}",
    )
    tracer_provider, logger_provider = done.tracer_provider, done.logger_provider
    exchanges = [{"body": e.body, "usage": e.usage} for e in done.exchanges]
    # Acknowledged by agentreel means stored, so after these the run is queryable.
    flushed = tracer_provider.force_flush(30_000) and logger_provider.force_flush(30_000)
    tracer_provider.shutdown()
    logger_provider.shutdown()
    return {"trace_id": done.trace_id, "flushed": flushed, "exchanges": exchanges}


def run(name: str, protocol: str, http_url: str, grpc_endpoint: str) -> dict[str, Any]:
    """Run ``name`` in a fresh interpreter and return what :func:`worker` reported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(CONFIGS[name].env)
    command = [sys.executable, "-m", "support.instrumented", name, "--protocol", protocol]
    command += ["--http", http_url, "--grpc", grpc_endpoint]
    done = subprocess.run(
        command, cwd=TESTS, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode:
        raise AssertionError(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(CONFIGS))
    parser.add_argument("--protocol", choices=("grpc", "http"), required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--grpc", required=True)
    args = parser.parse_args()
    result = worker(args.name, args.protocol, args.http, args.grpc)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
