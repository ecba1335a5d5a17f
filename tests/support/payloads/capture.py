"""Record the OTLP payloads each instrumentor sends for one agent run; saved as test fixtures.

Run ``python tests/support/payloads/capture.py [NAME ...]``. Each
configuration runs in a fresh subprocess (instrumentors patch the clients globally) and writes
next to this file:

- ``<name>.traces.pb``: one serialized ``ExportTraceServiceRequest`` with every span of the run;
- ``<name>.logs.pb``: one ``ExportLogsServiceRequest`` with every log record (only if any);
- ``<name>.requests.json``: the request bodies the fake provider received, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: ``tests/``: on ``sys.path`` in the workers, as pytest's ``pythonpath`` puts it in tests.
TESTS = HERE.parents[1]
#: Variables that would change what instrumentors emit; cleared before each run.
_OWN_PREFIXES = ("OTEL_", "TRACELOOP_", "ANTHROPIC_", "OPENAI_")


@dataclass(frozen=True)
class Config:
    """One instrumentor setup: which client the agent uses, what to instrument, the environment."""

    api: str
    instrumentors: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    stream: bool = False


#: Instrumentor classes by short name, as ``module:Class``.
INSTRUMENTORS = {
    "openinference_openai": "openinference.instrumentation.openai:OpenAIInstrumentor",
    "openinference_anthropic": "openinference.instrumentation.anthropic:AnthropicInstrumentor",
    "otel_genai_openai": "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor",
    "openllmetry_openai": "opentelemetry.instrumentation.openai:OpenAIInstrumentor",
    "openllmetry_anthropic": "opentelemetry.instrumentation.anthropic:AnthropicInstrumentor",
}

BASE_CONFIGS = {
    "openinference_openai": Config("openai", ("openinference_openai",)),
    "openinference_anthropic": Config("anthropic", ("openinference_anthropic",)),
    "otel_genai_openai_latest": Config(
        "openai",
        ("otel_genai_openai",),
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
        },
    ),
    "otel_genai_openai_events": Config(
        "openai",
        ("otel_genai_openai",),
        {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
    ),
    "openllmetry_openai": Config("openai", ("openllmetry_openai",)),
    "openllmetry_anthropic": Config("anthropic", ("openllmetry_anthropic",)),
    # Installed in this order: OpenInference first, OpenLLMetry wraps it.
    "openinference_and_openllmetry_openai": Config(
        "openai", ("openinference_openai", "openllmetry_openai")
    ),
}

#: Every configuration, plus a ``<name>_stream`` variant whose LLM calls stream (SSE).
CONFIGS = {
    **BASE_CONFIGS,
    **{f"{name}_stream": replace(c, stream=True) for name, c in BASE_CONFIGS.items()},
}


def _instrument(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        module, cls = INSTRUMENTORS[name].split(":")
        instrumentor: Callable[[], object] = getattr(importlib.import_module(module), cls)
        instrumentor().instrument()  # type: ignore[attr-defined]


@dataclass
class ScenarioRun:
    """What :func:`run_scenario` leaves for its caller."""

    tracer_provider: Any
    logger_provider: Any
    trace_id: str
    exchanges: list[Any]


def run_scenario(
    name: str, span_processor: Any, log_processor: Any, service: str, session_id: str
) -> ScenarioRun:
    """Install the global providers with these processors, instrument as configuration
    ``name`` says, and run the weather scenario against a fake provider."""
    # Imported here: the parent process must stay free of instrumentation.
    from opentelemetry import _logs, trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from support.agents import run_anthropic_agent, run_openai_agent
    from support.fakeprovider import FakeProvider
    from support.payloads import scenario

    config = CONFIGS[name]
    resource = Resource.create({"service.name": service})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(span_processor)
    trace.set_tracer_provider(tracer_provider)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(log_processor)
    _logs.set_logger_provider(logger_provider)
    _instrument(config.instrumentors)

    run_agent = run_openai_agent if config.api == "openai" else run_anthropic_agent
    model = scenario.OPENAI_MODEL if config.api == "openai" else scenario.ANTHROPIC_MODEL
    with FakeProvider(scenario.script()) as fake:
        base_url = fake.openai_base_url if config.api == "openai" else fake.base_url
        run = run_agent(
            base_url,
            model,
            scenario.USER_PROMPT,
            scenario.TOOLS,
            scenario.TOOL_IMPLS,
            system=scenario.SYSTEM,
            agent_name=scenario.AGENT_NAME,
            session_id=session_id,
            user_id=scenario.USER_ID,
            stream=config.stream,
        )
        exchanges = list(fake.exchanges)
    return ScenarioRun(tracer_provider, logger_provider, run.trace_id, exchanges)


def worker(name: str, out_dir: Path) -> None:
    """Run the scenario under configuration ``name`` in this process and write its payloads."""
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from support.payloads import scenario
    from support.payloads.exporters import CollectingLogExporter, CollectingSpanExporter

    spans, logs = CollectingSpanExporter(), CollectingLogExporter()
    done = run_scenario(
        name,
        SimpleSpanProcessor(spans),
        SimpleLogRecordProcessor(logs),
        f"capture-{name}",
        scenario.SESSION_ID,
    )
    requests = [e.body for e in done.exchanges]
    propagated = sum("traceparent" in e.headers for e in done.exchanges)
    done.tracer_provider.force_flush()
    done.logger_provider.force_flush()

    (out_dir / f"{name}.traces.pb").write_bytes(spans.request_bytes())
    logs_path = out_dir / f"{name}.logs.pb"
    if logs.records:
        logs_path.write_bytes(logs.request_bytes())
    else:
        logs_path.unlink(missing_ok=True)
    text = json.dumps(requests, indent=1, sort_keys=True) + "\n"
    (out_dir / f"{name}.requests.json").write_text(text)
    print(
        f"{name}: {len(spans.spans)} spans, {len(logs.records)} log records, "
        f"traceparent sent on {propagated}/{len(requests)} requests"
    )


def _child_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    return {**env, **config.env}


def main(argv: list[str] | None = None) -> int:
    """Capture the named configurations (all by default), each in its own subprocess."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(CONFIGS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.out)
        return 0
    unknown = sorted(set(args.names) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")
    failed = []
    for name in args.names or list(CONFIGS):
        command = [sys.executable, "-m", "support.payloads.capture", "--worker", name]
        command += ["--out", str(args.out)]
        done = subprocess.run(command, cwd=TESTS, env=_child_env(CONFIGS[name]), check=False)
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
