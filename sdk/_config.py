"""``init()``: where spans go, how they are batched, redacted and sampled.

With nothing configured, spans go over OTLP/HTTP to a local agentreel
(``http://127.0.0.1:4318``). The standard ``OTEL_*`` variables are honoured
(``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``, ``..._PROTOCOL``, ``..._HEADERS``,
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``), and
``AGENTREEL_API_KEY`` becomes the project key header. An application that already has an
SDK TracerProvider keeps it: the SDK adds its processors to it instead of replacing it.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from agentreel.core.redaction import Redactor

from . import _rerun
from ._errors import SdkError
from ._export import BoundedBatchProcessor, OnceFilter, SafeExporter, SpanRedactor
from ._instrument import instrument_anthropic, instrument_openai, uninstrument
from ._run import RunStamper
from ._state import SCOPE, STATE, VERSION

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
#: Spans that may wait for export; beyond it new spans are dropped (and counted).
MAX_QUEUE_SPANS = 4096
#: Longest a shutdown waits for the last spans to leave (a dead collector must not hang exit).
SHUTDOWN_TIMEOUT_S = 5.0
#: Longest one export request (with its retries) may take.
EXPORT_TIMEOUT_S = 5.0

GRPC_HINT = (
    "OTLP/gRPC export needs the gRPC exporter: pip install opentelemetry-exporter-otlp-proto-grpc"
    " (or send over HTTP to port 4318, which needs nothing more)"
)

_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)


class ConfigError(SdkError, ValueError):
    """``init()`` cannot be set up as asked; the message says what to change."""


@dataclass
class _Setup:
    provider: TracerProvider
    owned: bool  # created here (shut down with the SDK) or the application's
    processor: BoundedBatchProcessor | None
    exporter: SafeExporter | None


_setup: _Setup | None = None
_ONCE = OnceFilter()


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value.strip()
    return None


def _bool_env(*names: str) -> bool | None:
    value = _env(*names)
    if value is None:
        return None
    return value.lower() not in ("0", "false", "no", "off", "none", "no_content")


def choose_protocol(endpoint: str, protocol: str | None) -> str:
    """``grpc`` or ``http/protobuf``: as asked, else by the endpoint (``grpc://`` or port
    4317 mean gRPC)."""
    if protocol:
        if protocol not in ("grpc", "http/protobuf", "http"):
            raise ConfigError(f"protocol must be 'grpc' or 'http/protobuf', not {protocol!r}")
        return "http/protobuf" if protocol == "http" else protocol
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    if parts.scheme in ("grpc", "grpcs") or parts.port == 4317:
        return "grpc"
    return "http/protobuf"


def make_exporter(
    endpoint: str, protocol: str, headers: Mapping[str, str], signal_path: bool
) -> SpanExporter:
    """The OTLP span exporter for ``endpoint``; ``signal_path``: append ``/v1/traces``."""
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise ConfigError(GRPC_HINT) from exc
        parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
        target = parts.netloc or endpoint
        insecure = parts.scheme not in ("https", "grpcs")
        return GrpcExporter(
            endpoint=target,
            insecure=insecure,
            headers={k.lower(): v for k, v in headers.items()},
            timeout=EXPORT_TIMEOUT_S,
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    if "://" not in endpoint:
        endpoint = f"http://{endpoint}"
    url = endpoint.rstrip("/") + "/v1/traces" if signal_path else endpoint
    return HttpExporter(endpoint=url, headers=dict(headers), timeout=EXPORT_TIMEOUT_S)


def _headers(api_key: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    raw = _env("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    for pair in (raw or "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    out.update(headers or {})
    secret = api_key or _env("AGENTREEL_API_KEY")
    if secret:
        out["authorization"] = f"Bearer {secret}"
    return out


def _redactor(redact: Any) -> SpanRedactor | None:
    if redact is None or redact is False:
        return None
    if isinstance(redact, Redactor):
        return SpanRedactor(redact)
    if redact is True:
        return SpanRedactor(Redactor())
    if callable(redact) and not isinstance(redact, re.Pattern):
        return SpanRedactor(Redactor(patterns=(), func=redact))
    if isinstance(redact, str | re.Pattern):
        return SpanRedactor(Redactor([redact]))
    try:
        return SpanRedactor(Redactor(list(redact)))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def init(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    environment: str | None = None,
    sample_rate: float | None = None,
    capture_content: bool | None = None,
    redact: Redactor | Iterable[str | re.Pattern[str]] | Callable[[str], str] | bool | None = None,
    instrument: bool | Sequence[str] = True,
    tracer_provider: TracerProvider | None = None,
    exporter: SpanExporter | None = None,
    max_queue_size: int = MAX_QUEUE_SPANS,
    prices_file: str | None = None,
) -> TracerProvider:
    """Set up tracing for this process and return the TracerProvider in use.

    - ``endpoint``/``protocol``: where spans go (default: a local agentreel over HTTP;
      ``grpc://host:4317`` or port 4317 picks gRPC). ``exporter`` replaces the OTLP one.
    - ``api_key``: the project's key (sent as ``Authorization: Bearer``), else
      ``AGENTREEL_API_KEY``.
    - ``sample_rate``: share of runs kept (0..1); default all, or ``OTEL_TRACES_SAMPLER``.
    - ``capture_content``: record prompts, outputs, tool arguments and results (default
      True; ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false`` turns it off).
    - ``redact``: ``True`` for the ready rules, rule names/regexes, a ``Redactor``, or a
      function ``str -> str``; applied to every span before it leaves the process.
    - ``instrument``: trace the ``openai``/``anthropic`` clients (True, False, or a list).
    - ``tracer_provider``: attach to this provider (default: the global one when the
      application already set an SDK provider) instead of creating one.

    Raises :class:`ConfigError` for a setup that cannot work (unknown protocol, gRPC asked
    without the gRPC exporter installed, a bad redaction rule).
    """
    global _setup
    if _setup is not None:
        shutdown()
    if capture_content is None:
        capture_content = _bool_env("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
    STATE.capture_content = True if capture_content is None else bool(capture_content)
    STATE.prices_file = prices_file or _env("AGENTREEL_PRICES_FILE")
    STATE.reset_prices()
    if sample_rate is not None and not 0.0 <= float(sample_rate) <= 1.0:
        raise ConfigError(f"sample_rate must be between 0 and 1, not {sample_rate!r}")
    if (
        isinstance(max_queue_size, bool)
        or not isinstance(max_queue_size, int)
        or max_queue_size < 1
    ):
        raise ConfigError(f"max_queue_size must be a whole number >= 1, not {max_queue_size!r}")
    redactor = _redactor(redact)

    if exporter is None:
        traces_endpoint = _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        chosen = endpoint or traces_endpoint or _env("OTEL_EXPORTER_OTLP_ENDPOINT")
        chosen = chosen or DEFAULT_ENDPOINT
        proto = choose_protocol(
            chosen,
            protocol or _env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
        )
        signal_path = not (traces_endpoint and chosen == traces_endpoint and not endpoint)
        if endpoint and urlsplit(endpoint).path.rstrip("/").endswith("/v1/traces"):
            signal_path = False
        exporter = make_exporter(chosen, proto, _headers(api_key, headers), signal_path)

    safe = SafeExporter(exporter, redactor)
    processor = BoundedBatchProcessor(safe, max_queue_size, SHUTDOWN_TIMEOUT_S)
    provider, owned = _provider(tracer_provider, service_name, environment, sample_rate)
    provider.add_span_processor(RunStamper())
    provider.add_span_processor(processor)
    _setup = _Setup(provider, owned, processor, safe)
    STATE.tracer = provider.get_tracer(SCOPE, VERSION)
    for name in _EXPORTER_LOGGERS:
        logging.getLogger(name).addFilter(_ONCE)  # a filter already there is not added twice

    _rerun.provider_ready(provider)
    _rerun.from_environment()  # AGENTREEL_RERUN_OF / _CASE: this process is a re-run

    wanted = {"openai", "anthropic"} if instrument is True else set(instrument or ())
    if "openai" in wanted:
        instrument_openai()
    if "anthropic" in wanted:
        instrument_anthropic()
    return provider


def _provider(
    given: TracerProvider | None,
    service_name: str | None,
    environment: str | None,
    sample_rate: float | None,
) -> tuple[TracerProvider, bool]:
    if given is not None:
        return given, False
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current, False  # the application's own: keep it, add to it
    attributes: dict[str, Any] = {"telemetry.sdk.agentreel.version": VERSION}
    service = service_name or _env("OTEL_SERVICE_NAME")
    if service:
        attributes["service.name"] = service
    if environment:
        attributes["deployment.environment.name"] = environment
    kwargs: dict[str, Any] = {"resource": Resource.create(attributes)}
    if sample_rate is not None:
        kwargs["sampler"] = ParentBased(TraceIdRatioBased(float(sample_rate)))
    provider = TracerProvider(**kwargs)
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        # A provider was set between our check and now (or a proxy refused): use ours
        # for the SDK's own spans anyway.
        logging.getLogger("agentreel.sdk").debug("global TracerProvider already set")
    atexit.register(shutdown)
    return provider, True


def force_flush(timeout_s: float = 30.0) -> bool:
    """Send what is queued now; True when everything was sent."""
    if _setup is None or _setup.processor is None:
        return True
    flushed = _setup.processor.force_flush(int(timeout_s * 1000))
    return flushed and _setup.exporter is not None and _setup.exporter.failed_batches.value == 0


def shutdown() -> None:
    """Flush what is queued (waiting at most a few seconds for a collector that is down)
    and stop exporting. Safe to call twice, and without ``init()``."""
    global _setup
    setup, _setup = _setup, None
    uninstrument()
    STATE.tracer = None
    if setup is None or setup.processor is None:
        return
    try:
        setup.processor.shutdown()
    except Exception as exc:  # exiting must not fail because export did
        from ._errors import log_once

        log_once("shutdown", exc)


def stats() -> dict[str, int]:
    """What happened to the spans so far: exported, failed to export, dropped (queue full)."""
    if _setup is None or _setup.exporter is None or _setup.processor is None:
        return {"exported_spans": 0, "failed_spans": 0, "failed_batches": 0, "dropped_spans": 0}
    return {
        "exported_spans": _setup.exporter.exported_spans.value,
        "failed_spans": _setup.exporter.failed_spans.value,
        "failed_batches": _setup.exporter.failed_batches.value,
        "dropped_spans": _setup.processor.dropped.value,
    }
