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
from typing import Any

__all__ = ["SOURCE", "MaintainedPrices", "maintained"]

#: How the price listing names this layer.
SOURCE = "genai-prices"

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
        self._missing = False

    def _current(self) -> Any:
        if self._missing:
            return None
        try:
            from genai_prices import data_snapshot
        except ImportError:
            self._missing = True
            return None
        snapshot = data_snapshot.get_snapshot()
        if snapshot is not self._snapshot:
            with self._lock:
                self._snapshot, self._found = snapshot, {}
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
                    return snapshot.find_provider_model(name, None, provider_id, None)  # type: ignore[no-any-return]
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
        input_price = _float(prices.input_mtok) or 0.0
        output_price = _float(prices.output_mtok) or 0.0
        read, write = _float(prices.cache_read_mtok), _float(prices.cache_write_mtok)
        reasoning = _float(prices.output_reasoning_mtok)
        tiered = any(
            hasattr(getattr(prices, name), "tiers")
            for name in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
        )
        return Price(
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

    def cost(
        self,
        model: str,
        provider: str,
        input_tokens: int,
        cache_read: int,
        cache_write: int,
        output_tokens: int,
        reasoning: int,
        at: datetime | None = None,
    ) -> float | None:
        """USD for one call (counts as genai-prices reads them: see the module's docstring),
        tiers and per-request fees included; None when the model is unknown."""
        found = self.find(model, provider)
        if found is None:
            return None
        from genai_prices import Usage

        source, info = found
        usage = Usage(
            input_tokens=input_tokens,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
            output_tokens=output_tokens,
            output_reasoning_tokens=reasoning,
        )
        try:
            calc = info.calc_price(usage, source, genai_request_timestamp=_when(at))
        except ValueError:  # counts the data cannot split (already clamped: should not happen)
            return None
        return float(calc.total_price)

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
