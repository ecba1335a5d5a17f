"""Alert rules: what may be watched, and the validation that names the field at fault.

A rule watches one metric of a project (optionally of one agent) against a threshold::

    {"name": "daily-budget", "metric": "cost_daily", "threshold": 50,
     "webhooks": [{"url": "https://hooks.slack.com/...", "format": "slack"}]}

Durations (``window``, ``cooldown``) are seconds or text such as ``30m``, ``6h``, ``1d``."""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentreel.core import outbound

#: Metric → (what it measures, default window in seconds or 0 when the metric has its own).
METRICS = {
    "cost_daily": ("USD spent today (UTC); threshold defaults to the daily budget", 0),
    "cost_monthly": ("USD spent this month (UTC); threshold defaults to the monthly budget", 0),
    "run_cost": ("USD of a single run that started within the window", 3600),
    "cost_per_user": ("USD of each user's runs started within the (rolling) window", 86400),
    "error_rate": ("share of runs with an error within the window", 3600),
    "steps_per_run": ("steps (LLM calls, tool calls, decisions) of a single run", 3600),
    "drift_psi": ("routing drift (PSI) of each day in the window against the day before", 172800),
    "hallucination_rate": ("share of evaluated runs flagged within the window", 86400),
}
FORMATS = ("json", "slack")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FIELDS = frozenset(
    {
        "name", "metric", "threshold", "agent", "window", "cooldown", "min_runs", "by",
        "webhooks", "enabled", "project", "description",
    }
)  # fmt: skip


class RuleError(ValueError):
    """A rule is invalid; the message starts with the field at fault."""


@dataclass(frozen=True)
class Webhook:
    url: str
    format: str = "json"
    timeout: float = 5.0


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    threshold: float | None = None
    agent: str | None = None
    window: float = 0.0
    cooldown: float = 3600.0
    min_runs: int = 10
    by: str = "tool"
    webhooks: tuple[Webhook, ...] = field(default_factory=tuple)
    enabled: bool = True
    project: str | None = None
    description: str = ""
    #: ``file`` (the alerts file; read-only through the API) or ``api``.
    source: str = "api"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["webhooks"] = [asdict(w) for w in self.webhooks]
        return out


def parse_rule(raw: Any, source: str = "api") -> Rule:
    """A validated :class:`Rule`; raises :class:`RuleError` naming the field."""
    if not isinstance(raw, Mapping):
        raise RuleError("rule: must be an object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise RuleError(f"{unknown[0]}: unknown field (known: {', '.join(sorted(_FIELDS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RuleError("name: required; letters, digits, '_', '.', '-' (at most 100)")
    metric = raw.get("metric")
    if metric not in METRICS:
        raise RuleError(f"metric: must be one of {', '.join(METRICS)}, got {metric!r}")
    threshold = raw.get("threshold")
    if threshold is None:
        if metric not in ("cost_daily", "cost_monthly"):
            raise RuleError("threshold: required for this metric")
    elif (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
        or threshold < 0
    ):
        raise RuleError(f"threshold: must be a number of 0 or more, got {threshold!r}")
    if metric in ("error_rate", "hallucination_rate") and threshold is not None and threshold > 1:
        raise RuleError("threshold: a rate is a share from 0 to 1")
    agent = raw.get("agent")
    if agent is not None and (not isinstance(agent, str) or not agent):
        raise RuleError("agent: must be an agent name")
    min_runs = raw.get("min_runs", 10)
    if isinstance(min_runs, bool) or not isinstance(min_runs, int) or min_runs < 1:
        raise RuleError("min_runs: must be a whole number of 1 or more")
    by = raw.get("by", "tool")
    if by not in ("tool", "model", "decision"):
        raise RuleError("by: must be tool, model or decision")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError("enabled: must be true or false")
    project = raw.get("project")
    if project is not None and (not isinstance(project, str) or not project):
        raise RuleError("project: must be a project name")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise RuleError("description: must be text")
    return Rule(
        name=name,
        metric=metric,
        threshold=None if threshold is None else float(threshold),
        agent=agent,
        window=duration(raw.get("window", METRICS[metric][1]), "window"),
        cooldown=duration(raw.get("cooldown", 3600), "cooldown"),
        min_runs=min_runs,
        by=by,
        webhooks=_webhooks(raw.get("webhooks", [])),
        enabled=enabled,
        project=project,
        description=description,
        source=source,
    )


def duration(value: Any, field_name: str) -> float:
    """Seconds from a number or text such as ``90s``, ``15m``, ``6h``, ``1d``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.strip().lower())):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise RuleError(f"{field_name}: must be seconds or a duration such as 30m, 6h, 1d")
    if not math.isfinite(seconds) or seconds < 0:
        raise RuleError(f"{field_name}: must be 0 or more")
    return seconds


def _webhooks(raw: Any) -> tuple[Webhook, ...]:
    if isinstance(raw, str | Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise RuleError("webhooks: must be a list of URLs or {url, format} objects")
    out = []
    for i, item in enumerate(raw):
        where = f"webhooks[{i}]"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, Mapping):
            raise RuleError(f"{where}: must be a URL or an object with url")
        unknown = sorted(set(item) - {"url", "format", "timeout"})
        if unknown:
            raise RuleError(f"{where}.{unknown[0]}: unknown field (known: url, format, timeout)")
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RuleError(f"{where}.url: must be an http:// or https:// URL")
        try:
            outbound.check(url)
        except outbound.OutboundError as exc:
            raise RuleError(f"{where}.url: {exc}") from None
        fmt = item.get("format", "slack" if "hooks.slack.com" in url else "json")
        if fmt not in FORMATS:
            raise RuleError(f"{where}.format: must be json or slack")
        timeout = item.get("timeout", 5.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise RuleError(f"{where}.timeout: must be seconds above 0")
        out.append(Webhook(url, fmt, float(timeout)))
    return tuple(out)


def load_file(path: str | Path) -> list[Rule]:
    """Rules from a TOML (``[[rules]]`` tables) or JSON (a list, or ``{"rules": [...]}``)
    file; raises :class:`RuleError` naming the file, the rule and the field."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RuleError(f"alerts file {path}: {exc.strerror or exc}") from None
    try:
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(
            f"alerts file {path}: not valid {path.suffix[1:] or 'JSON'}: {exc}"
        ) from None
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RuleError(f"alerts file {path}: expected a list of rules (or 'rules')")
    rules, names = [], set()
    for i, item in enumerate(items):
        try:
            rule = parse_rule(item, source="file")
        except RuleError as exc:
            raise RuleError(f"alerts file {path}: rule {i + 1}: {exc}") from None
        if rule.name in names:
            raise RuleError(f"alerts file {path}: rule {i + 1}: name: {rule.name!r} repeats")
        names.add(rule.name)
        rules.append(rule)
    return rules
