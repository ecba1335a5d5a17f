"""Model prices and the cost of an LLM call (the SDK imports this, as the server does).

Prices come in layers, the first that has the model on the call's day wins:

1. a project's overrides (``PUT /api/v1/prices/overrides``, stored per project), else the
   operator's price file (``AGENTREEL_PRICES_FILE``), each from its own effective date;
2. agentreel's corrections (``prices.json`` beside this module): effective-dated entries for
   what the maintained data lacks or gets wrong, each saying why;
3. the maintained data: genai-prices' bundled snapshot (:mod:`.price_data`), with its
   prompt-length tiers, per-request fees and dated price changes;
4. before the first date of an entry of layers 1-2 the maintained data does not know, that
   entry (a model used before its listed date was priced at launch).

A model no layer knows stays unpriced (``None``), never 0.

Model names are matched the way providers and gateways spell them: provider prefixes
(``openai/gpt-4o``, ``anthropic.claude-…`` on Bedrock, ``us.anthropic.…``), date and version
suffixes (``gpt-4o-mini-2024-07-18``, ``claude-3-5-sonnet-20240620-v1:0``, ``…@20241022``,
``-latest``) and ``3.5`` for ``3-5``. Only whole names match after that, so ``gpt-4o`` never
prices ``gpt-4o-mini``. Overrides match that loosely; a correction matches only the name it
lists (and its aliases): ``gpt-4o`` corrected is the alias, not ``gpt-4o-2024-08-06``.

Token semantics per provider: :mod:`.token_counts`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .price_data import MAX_REMEMBERED, SOURCE, MaintainedPrices, Tokens, maintained
from .token_counts import Counts, Usage, split_counts

__all__ = [
    "PRICE_FIELDS",
    "Counts",
    "Price",
    "PriceError",
    "PriceTable",
    "Usage",
    "entries_data",
    "load_prices",
    "model_keys",
    "parse_entries",
    "split_counts",
]

#: The per-token-type prices of an entry, USD per 1M tokens.
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")

_PER_TOKEN = 1e-6
_EPOCH = date(1970, 1, 1)

#: ``<provider>:<model>`` prefixes some frameworks write (pydantic-ai, LiteLLM-style names).
_COLON_PREFIXES = frozenset({"openai", "anthropic", "azure", "bedrock", "openrouter", "vertex_ai"})

_BEDROCK_PREFIX = re.compile(r"^(?:(?:us|eu|apac|au|jp|us-gov|global)\.)?(?:anthropic|openai)\.")
_VERSION_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|:\d+)$")
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$")


class PriceError(ValueError):
    """A price entry or price file that cannot be used; the message names the field."""


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
    #: From the maintained data (genai-prices), not from a file.
    maintained: bool = False
    #: The maintained data prices long prompts higher (the figures here are the base tier).
    tiered: bool = False

    @property
    def origin(self) -> str:
        """Which layer the price comes from: ``override``, ``agentreel`` or ``genai-prices``."""
        if self.override:
            return "override"
        return SOURCE if self.maintained else "agentreel"

    def as_dict(self) -> dict[str, Any]:
        """The entry as ``GET /api/v1/prices`` and price files show it."""
        return {
            "model": self.model,
            "provider": self.provider,
            **{name: getattr(self, name) for name in PRICE_FIELDS},
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "source": self.source,
            "override": self.override,
            "origin": self.origin,
            "tiered": self.tiered,
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


class PriceTable:
    """The price layers (see the module's docstring), looked up by model name and date.

    Overrides come in two layers: ``overrides`` (the server's price file) and
    ``project_overrides`` (one project's, stored through the REST API). For a model a
    project overrides, its entries replace the server's; otherwise the server's apply.
    ``shipped`` are agentreel's corrections; ``data`` the maintained data (None: no such
    layer, as tests of the layers above it want).
    """

    def __init__(
        self,
        shipped: Iterable[Price],
        overrides: Iterable[Price] = (),
        project_overrides: Iterable[Price] = (),
        data: MaintainedPrices | None = None,
    ) -> None:
        self._shipped = list(shipped)
        self._overrides = [_as_override(p) for p in overrides]
        self._project = [_as_override(p) for p in project_overrides]
        self.data = data
        self._corrections = _by_key(self._shipped)
        self._override_index = _by_key(self._overrides)
        self._override_index.update(_by_key(self._project))
        self._found: dict[str, tuple[list[Price], list[Price]]] = {}

    @property
    def shipped(self) -> list[Price]:
        """agentreel's corrections (``prices.json``)."""
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
        """Every entry of the files, overrides last (the server's, then the project's), each
        group by model then date."""
        ordered = sorted(self._shipped, key=lambda p: (p.provider, p.model, _effective(p)))
        return (
            ordered
            + sorted(self._overrides, key=lambda p: (p.model, _effective(p)))
            + sorted(self._project, key=lambda p: (p.model, _effective(p)))
        )

    def for_project(self, overrides: Iterable[Price]) -> PriceTable:
        """This table with a project's overrides on top of the server-wide ones."""
        return PriceTable(self._shipped, self._overrides, overrides, self.data)

    def _entries_for(self, model: str) -> tuple[list[Price], list[Price]]:
        """``(overrides, corrections)`` listed for ``model``: overrides under its first
        listed key, corrections under its exact name only."""
        hit = self._found.get(model)
        if hit is None:
            keys = model_keys(model)
            overrides = next(
                (self._override_index[k] for k in keys if k in self._override_index), []
            )
            corrections = self._corrections.get(keys[0], []) if keys else []
            if len(self._found) >= MAX_REMEMBERED:
                self._found = {}
            hit = self._found[model] = (overrides, corrections)
        return hit

    def lookup(self, model: str, provider: str = "", at: datetime | None = None) -> Price | None:
        """The price of ``model`` at ``at`` (default now), or None when no layer knows it.

        An override or correction applies from its effective date; before it, the layers
        below it do; before any date and unknown below, the earliest entry applies (a model
        used before its listed date was priced at launch).
        """
        if not model or not model.strip():
            return None
        when = at or datetime.now(UTC)
        # A naive time is UTC, as everywhere in agentreel.
        day = (when.replace(tzinfo=UTC) if when.tzinfo is None else when).astimezone(UTC).date()
        overrides, corrections = self._entries_for(model)
        if provider:
            wanted = provider.strip().lower()
            corrections = [p for p in corrections if p.provider == wanted] or corrections
        for candidates in (overrides, corrections):
            current = [p for p in candidates if _effective(p) <= day]
            if current:
                return current[-1]
        price: Price | None = self.data.price(model, provider, when) if self.data else None
        if price is not None:
            return price
        listed = overrides or corrections
        return listed[0] if listed else None

    def cost(
        self, model: str, provider: str, usage: Usage, at: datetime | None = None
    ) -> float | None:
        """USD for one call with this usage as the provider reported it; None when the
        model is unknown (never 0)."""
        return self._cost(model, provider, usage, at, as_stored=False)

    def cost_as_stored(
        self, model: str, provider: str, usage: Usage, at: datetime | None = None
    ) -> float | None:
        """Like :meth:`cost`, for counts as agentreel stores them (see :func:`split_counts`)."""
        return self._cost(model, provider, usage, at, as_stored=True)

    def _cost(
        self, model: str, provider: str, usage: Usage, at: datetime | None, *, as_stored: bool
    ) -> float | None:
        price = self.lookup(model, provider, at)
        if price is None:
            return None
        counts = split_counts(usage, provider, model, price.provider, as_stored=as_stored)
        if price.maintained and self.data is not None:
            tokens = Tokens(
                counts.input_total,
                counts.cache_read,
                counts.cache_write,
                counts.output_total,
                counts.reasoning,
            )
            return self.data.cost(model, provider, tokens, at)
        return price_counts(price, counts)


def price_counts(price: Price, counts: Counts) -> float:
    """USD for these token parts at ``price`` (an agentreel entry: no tiers)."""
    dollars = (
        counts.plain_input * price.input
        + counts.cache_read * price.cache_read
        + counts.cache_write * price.cache_write
        + counts.plain_output * price.output
        + counts.reasoning * price.reasoning
    )
    return dollars * _PER_TOKEN


def _by_key(entries: Iterable[Price]) -> dict[str, list[Price]]:
    index: dict[str, list[Price]] = {}
    for price in entries:
        for name in (price.model, *price.aliases):
            index.setdefault(model_keys(name)[0], []).append(price)
    for listed in index.values():
        listed.sort(key=_effective)
    return index


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
        input=values["input"],
        output=values["output"],
        cache_read=values["cache_read"],
        cache_write=values["cache_write"],
        reasoning=values["reasoning"],
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
    """agentreel's corrections over the maintained data, plus the overrides in the file
    ``overrides`` when given."""
    return PriceTable(_shipped(), read_overrides(overrides) if overrides else (), (), maintained())
