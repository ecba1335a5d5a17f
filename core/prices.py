"""Model prices and the cost of an LLM call (standard library only: the SDK imports this).

The shipped table (``prices.json`` beside this module) lists published prices in USD per
1M tokens, each from an effective date with its source. A user's overrides (a JSON file for
the whole server; a project's own, stored through ``PUT /api/v1/prices/overrides``, on top)
take precedence over the shipped entry of the same model from the override's own date.

Model names are matched the way providers and gateways spell them: provider prefixes
(``openai/gpt-4o``, ``anthropic.claude-…`` on Bedrock, ``us.anthropic.…``), date and version
suffixes (``gpt-4o-mini-2024-07-18``, ``claude-3-5-sonnet-20240620-v1:0``, ``…@20241022``,
``-latest``) and ``3.5`` for ``3-5``. Only whole names match after that, so ``gpt-4o`` never
prices ``gpt-4o-mini`` and an unrecognised model stays unpriced (``None``), never 0.

Token semantics (``Usage`` holds counts as the provider reported them):

* OpenAI-style APIs: ``input_tokens`` include the cached (read) tokens and ``output_tokens``
  include the reasoning tokens; each token is billed once, at the rate of its part.
* Anthropic's Messages API: ``input_tokens`` exclude cache reads and cache writes, which are
  billed on top at their own rates; thinking is part of ``output_tokens``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "PRICE_FIELDS",
    "Price",
    "PriceError",
    "PriceTable",
    "Usage",
    "entries_data",
    "load_prices",
    "model_keys",
    "parse_entries",
]

#: The per-token-type prices of an entry, USD per 1M tokens.
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")

_PER_TOKEN = 1e-6
_EPOCH = date(1970, 1, 1)

#: Providers (as spans name them, lower-cased) whose API reports tokens the Anthropic way.
_ANTHROPIC_APIS = frozenset({"anthropic", "aws.bedrock", "bedrock", "gcp.vertex_ai", "vertex_ai"})
#: Providers whose API reports tokens the OpenAI way, whatever model they serve.
_OPENAI_APIS = frozenset({"openai", "azure", "azure.ai.openai", "az.ai.openai", "openrouter"})
#: ``<provider>:<model>`` prefixes some frameworks write (pydantic-ai, LiteLLM-style names).
_COLON_PREFIXES = frozenset({"openai", "anthropic", "azure", "bedrock", "openrouter", "vertex_ai"})

_BEDROCK_PREFIX = re.compile(r"^(?:(?:us|eu|apac|au|jp|us-gov|global)\.)?(?:anthropic|openai)\.")
_VERSION_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|:\d+)$")
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$")


class PriceError(ValueError):
    """A price entry or price file that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Usage:
    """Token counts of one call as the provider reported them (as agentreel's Span stores them)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class Price:
    """One model's prices (USD per 1M tokens) from ``effective_from`` on."""

    model: str
    provider: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    reasoning: float
    effective_from: date | None = None
    source: str = ""
    override: bool = False
    aliases: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """The entry as ``GET /api/v1/prices`` and price files show it."""
        return {
            "model": self.model,
            "provider": self.provider,
            **{name: getattr(self, name) for name in PRICE_FIELDS},
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "source": self.source,
            "override": self.override,
        }


def model_keys(name: str) -> list[str]:
    """The keys ``name`` may be listed under, most specific first: the name without its
    provider prefix, then also without date/version suffixes. Lower case, ``.`` read as ``-``."""
    text = name.strip().lower()
    text = text.rsplit("/", 1)[-1]
    head, sep, rest = text.partition(":")
    if sep and head in _COLON_PREFIXES:
        text = rest
    text = _BEDROCK_PREFIX.sub("", text)
    text = text.split("@", 1)[0] if "@" in text else text
    keys = [text.replace(".", "-")]
    stripped = text
    while True:
        shorter = _DATE_SUFFIX.sub("", _VERSION_SUFFIX.sub("", stripped))
        if shorter == stripped or not shorter:
            break
        stripped = shorter
        keys.append(stripped.replace(".", "-"))
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]


def _anthropic_tokens(provider: str, price: Price) -> bool:
    """Whether the call's usage counts input the Anthropic way (cache tokens apart)."""
    name = provider.strip().lower()
    if name in _OPENAI_APIS:
        return False
    if name in _ANTHROPIC_APIS:
        return price.provider == "anthropic" or name == "anthropic"
    return price.provider == "anthropic"


class PriceTable:
    """Shipped prices plus a user's overrides, looked up by model name and date.

    Overrides come in two layers: ``overrides`` (the server's price file) and
    ``project_overrides`` (one project's, stored through the REST API). For a model a
    project overrides, its entries replace the server's; otherwise the server's apply.
    """

    def __init__(
        self,
        shipped: Iterable[Price],
        overrides: Iterable[Price] = (),
        project_overrides: Iterable[Price] = (),
    ) -> None:
        self._shipped = list(shipped)
        self._overrides = [_as_override(p) for p in overrides]
        self._project = [_as_override(p) for p in project_overrides]
        self._index: dict[str, tuple[list[Price], list[Price]]] = {}
        server: dict[str, list[Price]] = {}
        for group, entries in ((0, self._shipped), (1, self._project)):
            for price in entries:
                for name in (price.model, *price.aliases):
                    key = model_keys(name)[0]
                    self._index.setdefault(key, ([], []))[group].append(price)
        for price in self._overrides:
            for name in (price.model, *price.aliases):
                server.setdefault(model_keys(name)[0], []).append(price)
        for key, prices in server.items():
            shipped_list, project_list = self._index.setdefault(key, ([], []))
            if not project_list:
                project_list.extend(prices)
        for shipped_list, override_list in self._index.values():
            shipped_list.sort(key=_effective)
            override_list.sort(key=_effective)
        self._keys: dict[str, str | None] = {}

    @property
    def shipped(self) -> list[Price]:
        return list(self._shipped)

    @property
    def overrides(self) -> list[Price]:
        """The server-wide overrides (the price file)."""
        return list(self._overrides)

    @property
    def project_overrides(self) -> list[Price]:
        """The overrides of the project this table prices for."""
        return list(self._project)

    def entries(self) -> list[Price]:
        """Every entry, overrides last (the server's, then the project's), each group by model
        then date."""
        ordered = sorted(self._shipped, key=lambda p: (p.provider, p.model, _effective(p)))
        return (
            ordered
            + sorted(self._overrides, key=lambda p: (p.model, _effective(p)))
            + sorted(self._project, key=lambda p: (p.model, _effective(p)))
        )

    def for_project(self, overrides: Iterable[Price]) -> PriceTable:
        """This table with a project's overrides on top of the server-wide ones."""
        return PriceTable(self._shipped, self._overrides, overrides)

    def _key(self, model: str) -> str | None:
        if model not in self._keys:
            self._keys[model] = next((k for k in model_keys(model) if k in self._index), None)
        return self._keys[model]

    def lookup(self, model: str, provider: str = "", at: datetime | None = None) -> Price | None:
        """The price of ``model`` at ``at`` (default now), or None when the model is unknown.

        An override applies from its effective date; before any entry's date, the earliest
        entry applies (a model used before its listed date was priced at launch).
        """
        key = self._key(model) if model else None
        if key is None:
            return None
        when = at or datetime.now(UTC)
        # A naive time is UTC, as everywhere in agentreel.
        day = (when.replace(tzinfo=UTC) if when.tzinfo is None else when).astimezone(UTC).date()
        shipped, overrides = self._index[key]
        if provider:
            wanted = provider.strip().lower()
            shipped = [p for p in shipped if p.provider == wanted] or shipped
        for candidates in (overrides, shipped):
            current = [p for p in candidates if _effective(p) <= day]
            if current:
                return current[-1]
        return (overrides or shipped)[0]

    def cost(
        self, model: str, provider: str, usage: Usage, at: datetime | None = None
    ) -> float | None:
        """USD for one call with this usage; None when the model is unknown (never 0)."""
        price = self.lookup(model, provider, at)
        if price is None:
            return None
        return price_usage(price, provider, usage)

    def cost_as_stored(
        self, model: str, provider: str, usage: Usage, at: datetime | None = None
    ) -> float | None:
        """Like :meth:`cost`, for counts as agentreel stores them: the OTel GenAI semantics,
        where ``input_tokens`` include cache reads and writes for every provider (that is how
        OpenInference, OpenLLMetry and the Anthropic SDK's own spans report Anthropic calls).
        A count smaller than its cache figures can only be Anthropic's raw count; kept as is."""
        price = self.lookup(model, provider, at)
        if price is None:
            return None
        if _anthropic_tokens(provider, price):
            cached = max(usage.cache_read_tokens, 0) + max(usage.cache_write_tokens, 0)
            if usage.input_tokens >= cached:
                usage = replace(usage, input_tokens=usage.input_tokens - cached)
        return price_usage(price, provider, usage)


def price_usage(price: Price, provider: str, usage: Usage) -> float:
    """USD for ``usage`` at ``price``, reading the counts with the API's semantics."""
    output = max(usage.output_tokens, 0)
    reasoning = min(max(usage.reasoning_tokens, 0), output)
    cache_read = max(usage.cache_read_tokens, 0)
    cache_write = max(usage.cache_write_tokens, 0)
    if _anthropic_tokens(provider, price):
        plain = max(usage.input_tokens, 0)
    else:
        # Cached (and any reported cache-write) tokens are part of the prompt count.
        total = max(usage.input_tokens, 0)
        cache_read = min(cache_read, total)
        cache_write = min(cache_write, total - cache_read)
        plain = total - cache_read - cache_write
    dollars = (
        plain * price.input
        + cache_read * price.cache_read
        + cache_write * price.cache_write
        + (output - reasoning) * price.output
        + reasoning * price.reasoning
    )
    return dollars * _PER_TOKEN


def _effective(price: Price) -> date:
    return price.effective_from or _EPOCH


def _as_override(price: Price) -> Price:
    if price.override:
        return price
    return Price(**{**price.__dict__, "override": True})


# -- files ---------------------------------------------------------------------------------


def parse_entries(data: Any, *, override: bool = False, where: str = "prices") -> list[Price]:
    """Price entries from JSON data (a list of entries, or ``{"models": [...]}``).

    ``input`` and ``output`` are required; ``cache_read`` and ``cache_write`` default to the
    input price, ``reasoning`` to the output price. Raises :class:`PriceError` naming the
    first bad field.
    """
    if isinstance(data, Mapping):
        if "models" not in data:
            raise PriceError(f"{where}: expected a list of entries or an object with 'models'")
        data = data["models"]
    if not isinstance(data, list):
        raise PriceError(f"{where}: expected a list of price entries")
    return [_entry(item, f"{where}[{i}]", override) for i, item in enumerate(data)]


def _entry(item: Any, where: str, override: bool) -> Price:
    if not isinstance(item, Mapping):
        raise PriceError(f"{where}: expected an object")
    model = item.get("model")
    if not isinstance(model, str) or not model.strip():
        raise PriceError(f"{where}.model: must be a non-empty string")
    provider = item.get("provider", "")
    if not isinstance(provider, str):
        raise PriceError(f"{where}.provider: must be a string")
    values: dict[str, float] = {}
    defaults = {"cache_read": "input", "cache_write": "input", "reasoning": "output"}
    for name in PRICE_FIELDS:
        value = item.get(name)
        if value is None and name in defaults:
            value = values[defaults[name]]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise PriceError(f"{where}.{name}: must be a number (USD per 1M tokens)")
        if value < 0 or value > 1e6:
            raise PriceError(f"{where}.{name}: must be between 0 and 1000000 USD per 1M tokens")
        values[name] = float(value)
    effective = item.get("effective_from")
    day = None
    if effective is not None:
        try:
            day = date.fromisoformat(str(effective)[:10])
        except ValueError:
            raise PriceError(f"{where}.effective_from: must be a date (YYYY-MM-DD)") from None
    source = item.get("source") or ("user override" if override else "")
    aliases = item.get("aliases") or ()
    if not isinstance(source, str):
        raise PriceError(f"{where}.source: must be a string")
    if not isinstance(aliases, list | tuple) or not all(isinstance(a, str) for a in aliases):
        raise PriceError(f"{where}.aliases: must be a list of model names")
    for name, part in ((model, "model"), *((a, "aliases") for a in aliases)):
        if not model_keys(name):  # such as "@x" or "openai/": nothing a call could match
            raise PriceError(f"{where}.{part}: {name!r} is not a model name")
    return Price(
        model=model.strip(),
        provider=provider.strip().lower(),
        effective_from=day,
        source=source,
        override=override,
        aliases=tuple(aliases),
        **values,
    )


def _shipped() -> list[Price]:
    text = resources.files(__package__ or "agentreel.storage").joinpath("prices.json").read_text()
    return parse_entries(json.loads(text), where="prices.json")


def read_overrides(path: str | Path) -> list[Price]:
    """The entries of a user's price file; a missing file means no overrides."""
    file = Path(path)
    if not file.exists():
        return []
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PriceError(f"{file}: cannot read price overrides ({exc})") from None
    return parse_entries(data, override=True, where=str(file))


def entries_data(entries: Iterable[Price]) -> list[dict[str, Any]]:
    """Entries as JSON data that :func:`parse_entries` reads back (``override`` left out:
    where they are stored says that)."""
    return [{k: v for k, v in p.as_dict().items() if k != "override"} for p in entries]


def load_prices(overrides: str | Path | None = None) -> PriceTable:
    """The shipped price table, plus the overrides in the file ``overrides`` when given."""
    return PriceTable(_shipped(), read_overrides(overrides) if overrides else ())
