"""One settings table: every knob has a name, an environment variable, a type, a default and a doc.

Settings come from ``AGENTREEL_*`` environment variables, overridden by CLI flags. They are
validated once at start; an invalid value or an unknown ``AGENTREEL_*`` variable fails with
a message that names it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "AGENTREEL_"


#: The SDK's own variables (re-run mode, in the agent's process): not server settings, but
#: an agent's shell may export them beside the server's, so they are not refused as unknown.
SDK_ENV = frozenset(
    {
        "AGENTREEL_SERVER",
        "AGENTREEL_RERUN_OF",
        "AGENTREEL_RERUN_FROM",
        "AGENTREEL_RERUN_CASE",
        "AGENTREEL_RERUN_EDIT",
        "AGENTREEL_RERUN_ON_DIVERGENCE",
        "AGENTREEL_RERUN_LIVE",
        "AGENTREEL_RERUN_REPORT",
    }
)


class SettingsError(ValueError):
    """A setting is unknown or has an invalid value; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    type: Callable[[str], Any]
    default: Any
    doc: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("a port is a number from 0 to 65535")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _days(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number of days, 0 or more (0: keep forever)")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a number above 0")
    return value


def _depth(raw: str) -> int:
    value = int(raw)
    # 32 key-value lists are as deep as upb parses inside a span (collector/wire.py).
    if not 1 <= value <= 32:
        raise ValueError("must be a whole number from 1 to 32")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < float("inf"):
        raise ValueError("must be a number, 0 or more")
    return value


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 1:
        raise ValueError("must be a number from 0 to 1")
    return value


def _url(raw: str) -> str:
    if "://" not in raw:
        raise ValueError("must be a URL such as chdb:///path or http://host:8123")
    return raw


def _auth(raw: str) -> str:
    value = raw.lower()
    if value not in {"auto", "on", "off"}:
        raise ValueError("must be auto, on or off")
    return value


def _on_off(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in {"on", "off", "true", "false", "1", "0"}:
        raise ValueError("must be on or off")
    return value in {"on", "true", "1"}


def _hosts(raw: str) -> str:
    from agentreel.core.outbound import parse_hosts

    parse_hosts(raw)  # ValueError naming the entry
    return ",".join(part.strip() for part in raw.split(",") if part.strip())


def _cluster(raw: str) -> str:
    if raw and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        raise ValueError("must be a ClickHouse cluster name: letters, digits and _")
    return raw


def _log_level(raw: str) -> str:
    value = raw.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of debug, info, warning, error")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str, ".agentreel", "Where the embedded store and other state live."),
    Setting(
        "clickhouse_url",
        _url,
        "",
        "ClickHouse DSN: chdb:///path (embedded) or http(s)://user:pass@host:8123/db. "
        "Empty means chdb://<data_dir>/clickhouse.",
    ),
    Setting(
        "clickhouse_cluster",
        _cluster,
        "",
        "ClickHouse cluster (of the server's remote_servers) the schema is made on: sharded "
        "and replicated tables ON CLUSTER (see `agentreel migrate`). Empty: one server or chDB.",
    ),
    Setting("host", str, "127.0.0.1", "Address the OTLP receivers and REST API bind to."),
    Setting("grpc_port", _port, 4317, "OTLP/gRPC port."),
    Setting("http_port", _port, 4318, "OTLP/HTTP and REST API port."),
    Setting("dashboard_port", _port, 8501, "Dashboard port."),
    Setting(
        "api_url",
        str,
        "",
        "Where the CLI and dashboard find the server. Empty means http://<host>:<http_port>.",
    ),
    Setting("project", str, "default", "Project that spans without an API key belong to."),
    Setting(
        "max_request_bytes",
        _positive_int,
        64 * 1024 * 1024,
        "Largest OTLP request accepted, compressed or not (413 above it).",
    ),
    Setting(
        "queue_spans",
        _positive_int,
        200_000,
        "Decoded spans kept in memory for the writer; beyond this they wait in the spool only.",
    ),
    Setting(
        "queue_bytes",
        _positive_int,
        32 * 1024 * 1024,
        "Bytes of requests (as received) waiting for the writer: decoded ones are kept in "
        "memory up to this, and beyond it the collector answers 429 with Retry-After while "
        "the store is writing (while it fails, the spool takes them up to spool_max_bytes).",
    ),
    Setting(
        "max_rss_bytes",
        _positive_int,
        768 * 1024 * 1024,
        "Resident memory of the server above which, while other requests wait to be decoded "
        "or written, the collector answers 429 with Retry-After (a flood is pushed back "
        "before memory grows further).",
    ),
    Setting(
        "body_read_timeout",
        _positive_float,
        60.0,
        "Seconds an OTLP/HTTP request may take to send its whole body; a slower one is "
        "answered 408 and its connection closed (slow or stalled uploads cannot hold the "
        "collector).",
    ),
    Setting("batch_spans", _positive_int, 20_000, "Most spans the writer inserts at once."),
    Setting(
        "flush_interval",
        _positive_float,
        0.2,
        "Seconds the writer waits to fill a batch before it writes what it has.",
    ),
    Setting("log_level", _log_level, "INFO", "Log level: debug, info, warning or error."),
    Setting(
        "budget_daily_usd",
        _non_negative_float,
        0.0,
        "Daily cost budget in USD for the dashboard's budget lines (0 = no budget).",
    ),
    Setting(
        "budget_monthly_usd",
        _non_negative_float,
        0.0,
        "Monthly cost budget in USD for the dashboard's budget lines (0 = no budget).",
    ),
    Setting(
        "prices_file",
        str,
        "",
        "JSON file of price overrides (PUT /api/v1/prices/overrides writes it). "
        "Empty means <data_dir>/prices.json.",
    ),
    Setting(
        "prices_auto_update",
        _on_off,
        False,
        "on: fetch genai-prices' newest price data hourly from GitHub; off (default): the "
        "snapshot bundled with the installed release, no network.",
    ),
    Setting(
        "eval_sample_rate",
        _fraction,
        1.0,
        "Share of finished runs the server evaluates online (groundedness, rule checks and, "
        "when configured, the LLM judge); 0 turns online evaluation off.",
    ),
    Setting(
        "judge_url",
        str,
        "",
        "OpenAI-compatible base URL of the LLM-as-judge evaluator (e.g. "
        "https://api.openai.com/v1). Empty: the judge is off.",
    ),
    Setting("judge_model", str, "gpt-4o-mini", "Model the LLM-as-judge evaluator asks."),
    Setting("judge_api_key", str, "", "API key sent to the judge endpoint as a Bearer token."),
    Setting(
        "alerts_file",
        str,
        "",
        "Alert rules file (TOML or JSON, see README); rules added through the REST API are "
        "kept in the store.",
    ),
    Setting(
        "alert_interval",
        _positive_float,
        60.0,
        "Seconds between evaluations of the alert rules (and of online evaluators).",
    ),
    Setting(
        "judge_prompt",
        str,
        "",
        "File with the judge's prompt ({question}, {evidence}, {answer} are filled in). "
        "Empty: the built-in prompt.",
    ),
    Setting(
        "spool_dir",
        str,
        "",
        "Where accepted OTLP requests are kept until stored. Empty means <data_dir>/spool.",
    ),
    Setting(
        "spool_max_bytes",
        _positive_int,
        1024 * 1024 * 1024,
        "Most bytes the spool may hold; when full the collector answers 503 with Retry-After.",
    ),
    Setting(
        "spool_ack_wait",
        _non_negative_float,
        5.0,
        "Seconds an OTLP answer waits for the insert once the request is in the spool "
        "(0: answer on fsync; inserts grow larger, data shows up a little later).",
    ),
    Setting(
        "max_spans_per_request",
        _positive_int,
        50_000,
        "Most spans (or log records) in one OTLP request (413 above it).",
    ),
    Setting(
        "max_attributes",
        _positive_int,
        4096,
        "Most attributes kept per span, event, log record or resource; the rest are dropped.",
    ),
    Setting(
        "max_attribute_length",
        _positive_int,
        8 * 1024 * 1024,
        "Longest attribute value kept, in characters; longer ones are cut with a marker.",
    ),
    Setting(
        "max_anyvalue_depth",
        _depth,
        32,
        "Deepest nesting of arrays and maps in one attribute value, 1 to 32 (a value nested "
        "this deep is kept; deeper rejects that span alone).",
    ),
    Setting(
        "max_decompressed_bytes",
        _positive_int,
        64 * 1024 * 1024,
        "Most bytes a compressed OTLP request may inflate to (413 above it).",
    ),
    Setting(
        "max_decompression_ratio",
        _positive_int,
        100,
        "Most times a compressed request may inflate past 1 MiB (413 above it: gzip bombs).",
    ),
    Setting(
        "max_past_seconds",
        _positive_int,
        5 * 365 * 24 * 3600,
        "Spans starting longer ago than this are rejected (partial_success says why).",
    ),
    Setting(
        "max_future_seconds",
        _positive_int,
        24 * 3600,
        "Spans starting or ending later than this from now are rejected.",
    ),
    Setting(
        "max_tokens_per_span",
        _positive_int,
        100_000_000,
        "Largest token count one span may carry (input, output, cache, reasoning or total); "
        "a span over it keeps none of its counts and is not priced (partial_success says why).",
    ),
    Setting(
        "retention_days",
        _days,
        0,
        "Days a run is kept after its last span (0: forever); a project may set its own "
        "(agentreel retention --days N, PUT /api/v1/retention).",
    ),
    Setting(
        "rollup_retention_days",
        _days,
        0,
        "Days the daily rollups behind the dashboard's trends are kept (0: forever).",
    ),
    Setting(
        "max_disk_gb",
        _non_negative_float,
        0.0,
        "Disk cap of the store in GB (0: none): above it the oldest month of spans is "
        "dropped, then the next, keeping the newest month; each drop is logged and counted.",
    ),
    Setting(
        "retention_interval",
        _positive_float,
        3600.0,
        "Seconds between retention and disk cap passes.",
    ),
    Setting(
        "auth",
        _auth,
        "auto",
        "API keys: on, off, or auto (on unless the server binds to loopback only). A server "
        "bound beyond loopback refuses to start with auth off.",
    ),
    Setting("api_key", str, "", "The API key the CLI and dashboard send (Authorization: Bearer)."),
    Setting(
        "redact",
        str,
        "",
        "Redaction at ingestion: a comma list of ready patterns (api_key, email, card, phone) "
        "or the path of a rules file. Empty: nothing is redacted.",
    ),
    Setting(
        "outbound_hosts",
        _hosts,
        "",
        "Hosts the server may send to (re-sent LLM calls, alert webhooks): a comma list of "
        "host, host:port, *.domain or *. Empty: * with auth off; with auth on "
        "api.openai.com, api.anthropic.com, hooks.slack.com.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :meth:`load`; tests pass ``environ`` as a dict."""

    data_dir: str
    clickhouse_url: str
    clickhouse_cluster: str
    host: str
    grpc_port: int
    http_port: int
    dashboard_port: int
    api_url: str
    project: str
    max_request_bytes: int
    queue_spans: int
    queue_bytes: int
    max_rss_bytes: int
    body_read_timeout: float
    batch_spans: int
    flush_interval: float
    log_level: str
    budget_daily_usd: float
    budget_monthly_usd: float
    prices_file: str
    prices_auto_update: bool
    eval_sample_rate: float
    judge_url: str
    judge_model: str
    judge_api_key: str
    alerts_file: str
    alert_interval: float
    judge_prompt: str
    spool_dir: str
    spool_max_bytes: int
    spool_ack_wait: float
    max_spans_per_request: int
    max_attributes: int
    max_attribute_length: int
    max_anyvalue_depth: int
    max_decompressed_bytes: int
    max_decompression_ratio: int
    max_past_seconds: int
    max_future_seconds: int
    max_tokens_per_span: int
    retention_days: int
    rollup_retention_days: int
    max_disk_gb: float
    retention_interval: float
    auth: str
    api_key: str
    redact: str
    outbound_hosts: str

    @property
    def dashboard_url(self) -> str:
        """Where the dashboard answers, for links (a wildcard bind is reached on loopback)."""
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.dashboard_port}"

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Read ``AGENTREEL_*`` variables from ``environ`` and apply ``overrides`` (CLI flags)."""
        environ = os.environ if environ is None else environ
        known_env = {s.env for s in SETTINGS}
        # Other tools' variables share the prefix only by accident; ours all start with it.
        unknown = sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known_env)
        unknown = [
            k for k in unknown if not k.startswith(ENV_PREFIX + "TEST_") and k not in SDK_ENV
        ]
        if unknown:
            raise SettingsError(
                f"unknown setting {unknown[0]}; known settings: {', '.join(sorted(known_env))}"
            )
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = environ.get(setting.env)
            values[setting.name] = setting.default if raw is None else _parse(setting, raw)
        for name, value in (overrides or {}).items():
            if value is None:
                continue
            known = _BY_NAME.get(name)
            if known is None:
                raise SettingsError(f"unknown setting {name}")
            values[name] = _parse(known, str(value), source=known.flag)
        if values["clickhouse_cluster"]:
            # Retention's DELETEs and partition drops name the Distributed tables; on a
            # cluster they must act on each shard's local tables (not built yet).
            for name in ("retention_days", "rollup_retention_days", "max_disk_gb"):
                if values[name]:
                    env = _BY_NAME[name].env
                    raise SettingsError(
                        f"{env} is not supported with AGENTREEL_CLICKHOUSE_CLUSTER yet: "
                        "use ClickHouse TTL or drop partitions on the shards"
                    )
        if not values["clickhouse_url"]:
            store = Path(values["data_dir"]).absolute() / "clickhouse"
            values["clickhouse_url"] = f"chdb://{store}"
        if not values["prices_file"]:
            values["prices_file"] = str(Path(values["data_dir"]).absolute() / "prices.json")
        if not values["spool_dir"]:
            values["spool_dir"] = str(Path(values["data_dir"]).absolute() / "spool")
        if not values["api_url"]:
            host = values["host"]
            host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
            values["api_url"] = f"http://{host}:{values['http_port']}"
        return cls(**values)

    @property
    def embedded(self) -> bool:
        """True when the store is chDB inside this process."""
        return self.clickhouse_url.startswith("chdb://")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _parse(setting: Setting, raw: str, source: str | None = None) -> Any:
    try:
        return setting.type(raw.strip())
    except ValueError as exc:
        where = source or setting.env
        raise SettingsError(f"invalid value {raw!r} for {where}: {exc}") from None
