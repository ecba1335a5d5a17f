"""The maintained price data: genai-prices' bundled snapshot, under agentreel's own layers.

genai-prices (pydantic's package, also behind logfire) carries some 2,300 models of 47
providers with cache-read/write prices, prompt-length tiers, per-request fees and dated price
changes. agentreel reads the snapshot bundled with the pinned release; it never fetches newer
data unless an operator sets ``AGENTREEL_PRICES_AUTO_UPDATE`` (the server then runs
genai-prices' ``UpdatePrices``, whose snapshot this module reads from then on).

The package is imported on the first lookup, not with this module: it builds its tables at
import (measured: 40 ms and 5 MB beside an openai client that already loaded pydantic and
httpx2), which an agent that never prices a call should not pay. Without the package (an
install that removed it), the maintained layer is simply absent: calls it would have priced
stay unpriced, never 0.

Counts go in as genai-prices reads them: ``input_tokens`` is the whole prompt, cache reads
and writes parts of it; ``output_tokens`` includes the reasoning tokens. :mod:`.prices` turns
each provider's way of reporting into that before calling here.
"""

from __future__ import annotations

import functools
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = ["SOURCE", "MaintainedPrices", "Tokens", "maintained"]

#: How the price listing names this layer.
SOURCE = "genai-prices"
#: Names remembered before the lookup cache starts over (spans may name models without end).
MAX_REMEMBERED = 10_000

#: Provider names as spans carry them (``gen_ai.provider.name``, ``gen_ai.system``, OpenInference
#: ``llm.provider``/``llm.system``, lower-cased) to genai-prices' provider ids. A name not here
#: is tried as genai-prices' own provider match, then the model name alone decides.
_PROVIDER_IDS = {
    "openai": "openai",
    "azure": "azure",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "azure_openai": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "aws": "aws",
    "amazon_bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "google": "google",
    "vertexai": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "groq": "groq",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "together": "together",
    "together_ai": "together",
    "fireworks": "fireworks",
    "cerebras": "cerebras",
}


class Tokens(NamedTuple):
    """One call's counts as genai-prices reads them: ``input`` the whole prompt (cache reads
    and writes parts of it), ``output`` including ``reasoning``."""

    input: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int


def _float(value: Any) -> float | None:
    """A price as a float: a tiered price's base (the listing shows ``tiered``)."""
    if value is None:
        return None
    return float(getattr(value, "base", value))


class MaintainedPrices:
    """Lookups into genai-prices' snapshot, remembered per (model, provider) while the
    snapshot in force stays the same object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Any = None
        self._found: dict[tuple[str, str], tuple[Any, Any] | None] = {}
        self._listed: dict[int, tuple[Any, Any]] = {}
        self._snapshots: Any = None  # genai_prices.data_snapshot, once imported
        self._missing = False

    def _current(self) -> Any:
        if self._snapshots is None:
            if self._missing:
                return None
            try:
                from genai_prices import data_snapshot
            except ImportError:
                self._missing = True
                return None
            self._snapshots = data_snapshot
        snapshot = self._snapshots.get_snapshot()
        if snapshot is not self._snapshot:
            with self._lock:
                self._snapshot, self._found, self._listed = snapshot, {}, {}
        return snapshot

    def find(self, model: str, provider: str = "") -> tuple[Any, Any] | None:
        """genai-prices' ``(Provider, ModelInfo)`` for a call, or None when it has none."""
        snapshot = self._current()
        if snapshot is None or not model.strip():
            return None
        key = (model, provider)
        if key in self._found:
            return self._found[key]
        found = self._search(snapshot, model, provider.strip().lower())
        if len(self._found) >= MAX_REMEMBERED:
            self._found = {}
        self._found[key] = found
        return found

    @staticmethod
    def _search(snapshot: Any, model: str, provider: str) -> tuple[Any, Any] | None:
        from .prices import model_keys

        ids = [_PROVIDER_IDS.get(provider, provider)] if provider else []
        # The name as sent first (a dated snapshot may have its own price), then the names
        # agentreel's matching reads it as (``openai:gpt-4o``, ``claude-3.5-sonnet``).
        names = [model.strip(), *model_keys(model)]
        for provider_id in [*ids, None]:
            for name in dict.fromkeys(names):
                try:
                    found: tuple[Any, Any] = snapshot.find_provider_model(
                        name, None, provider_id, None
                    )
                    return found
                except LookupError:
                    continue
        return None

    def price(self, model: str, provider: str = "", at: datetime | None = None) -> Any:
        """The model's prices in force at ``at`` as an agentreel ``Price`` (tiered prices by
        their base), or None."""
        from .prices import Price

        found = self.find(model, provider)
        if found is None:
            return None
        source, info = found
        prices = info.get_prices(_when(at))
        # One entry per set of prices (they live as long as the snapshot).
        listed = self._listed.get(id(prices))
        if listed is not None and listed[0] is prices:
            return listed[1]
        values = vars(prices)
        input_price = _float(values.get("input_mtok")) or 0.0
        output_price = _float(values.get("output_mtok")) or 0.0
        read, write = _float(values.get("cache_read_mtok")), _float(values.get("cache_write_mtok"))
        reasoning = _float(values.get("output_reasoning_mtok"))
        tiered = any(hasattr(value, "tiers") for value in values.values())
        price = Price(
            model=info.id,
            provider=source.id,
            input=input_price,
            output=output_price,
            cache_read=input_price if read is None else read,
            cache_write=input_price if write is None else write,
            reasoning=output_price if reasoning is None else reasoning,
            source=SOURCE,
            maintained=True,
            tiered=tiered,
        )
        self._listed[id(prices)] = (prices, price)
        return price

    def cost(
        self, model: str, provider: str, tokens: Tokens, at: datetime | None = None
    ) -> float | None:
        """USD for one call (counts as genai-prices reads them: see the module's docstring),
        tiers and per-request fees included; None when the model is unknown.

        Computed here from the model's prices in force, as genai-prices' ``calc_price``
        computes them for these five counts (the test suite compares the two over every
        model of the snapshot): that takes about 1 ms a call, too slow for ingestion."""
        found = self.find(model, provider)
        if found is None:
            return None
        input_tokens, cache_read, cache_write, output_tokens, reasoning = tokens
        prices = found[1].get_prices(_when(at))
        rate = _Rates(prices, input_tokens)
        # A part without a price of its own is billed at its parent's: a cache read of a
        # model without a cache price is input, reasoning without its own price is output.
        read, write, thought = (
            rate("cache_read_mtok"),
            rate("cache_write_mtok"),
            rate("output_reasoning_mtok"),
        )
        plain_input = input_tokens - (cache_read if read is not None else 0)
        plain_input -= cache_write if write is not None else 0
        plain_output = output_tokens - (reasoning if thought is not None else 0)
        total = (
            plain_input * (rate("input_mtok") or 0)
            + cache_read * (read or 0)
            + cache_write * (write or 0)
            + plain_output * (rate("output_mtok") or 0)
            + reasoning * (thought or 0)
        ) / _MILLION
        fee = vars(prices).get("requests_kcount")
        if fee is not None:  # a fee per request, priced per thousand requests
            total += fee / 1000
        return float(total)

    def reference_cost(
        self, model: str, provider: str, tokens: Tokens, at: datetime | None = None
    ) -> float | None:
        """:meth:`cost` as genai-prices' own ``calc_price`` computes it (what tests compare
        :meth:`cost` with)."""
        found = self.find(model, provider)
        if found is None:
            return None
        from genai_prices import Usage

        source, info = found
        usage = Usage(
            input_tokens=tokens.input,
            cache_read_tokens=tokens.cache_read,
            cache_write_tokens=tokens.cache_write,
            output_tokens=tokens.output,
            output_reasoning_tokens=tokens.reasoning,
        )
        calc = info.calc_price(usage, source, genai_request_timestamp=_when(at))
        return float(calc.total_price)

    def about_providers(self) -> list[Any]:
        """genai-prices' providers in the snapshot in force (none without the package)."""
        snapshot = self._current()
        return list(snapshot.providers) if snapshot is not None else []

    def about(self) -> dict[str, Any]:
        """What the listing says of this layer: release, data date, size, auto-update."""
        snapshot = self._current()
        if snapshot is None:
            return {"source": SOURCE, "installed": False}
        from genai_prices import __version__

        providers = snapshot.providers
        return {
            "source": SOURCE,
            "installed": True,
            "version": __version__,
            "data_date": _data_date(providers),
            "auto_update": bool(snapshot.from_auto_update),
            "fetched_at": snapshot.timestamp.isoformat() if snapshot.from_auto_update else None,
            "providers": len(providers),
            "models": sum(len(p.models) for p in providers),
        }


_MILLION = Decimal(1_000_000)


class _Rates:
    """A model's price per token kind for one call: a tiered price at the tier the call's
    prompt reaches (genai-prices' cliff: over a tier's start, the whole call pays its price)."""

    def __init__(self, prices: Any, input_tokens: int) -> None:
        self._prices = prices
        self._input = input_tokens

    def __call__(self, key: str) -> Decimal | None:
        # What the data sets is in the instance's dict; ``getattr`` would look a missing key
        # up in genai-prices' unit registry first (most of a call's time).
        value = vars(self._prices).get(key)
        tiers = getattr(value, "tiers", None)
        if tiers is None:
            return value  # type: ignore[no-any-return]
        for tier in reversed(tiers):
            if self._input > tier.start:
                return tier.price  # type: ignore[no-any-return]
        return value.base  # type: ignore[no-any-return]


def _when(at: datetime | None) -> datetime:
    when = at or datetime.now(UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _data_date(providers: list[Any]) -> str | None:
    """The newest price change the data holds that is not in the future: the snapshot knows
    prices at least up to that day (genai-prices records no build date of its own; changes
    announced ahead are in the data too, and do not date it)."""
    today = datetime.now(UTC).date()
    newest: date | None = None
    for provider in providers:
        for info in provider.models:
            conditions = list(info.prices) if isinstance(info.prices, list) else []
            conditions += list(info.price_variants or ())
            for item in conditions:
                start = getattr(item.constraint, "start_date", None)
                if (
                    isinstance(start, date)
                    and start <= today
                    and (newest is None or start > newest)
                ):
                    newest = start
    return newest.isoformat() if newest else None


@functools.cache
def maintained() -> MaintainedPrices:
    """The process's maintained layer (one lookup cache for every price table)."""
    return MaintainedPrices()
