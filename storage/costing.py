"""Cost at ingestion: the prices in force, and pricing the LLM spans the writer is about to store.

A cost the span carried (``llm.cost.total``, ``gen_ai.usage.cost``; ``cost_source = "span"``)
wins. Otherwise an LLM span with tokens and a known model is priced from the table
(``cost_source = "price_table"``); one whose model is unknown keeps cost 0 with an empty
``cost_source``, which is how ``/api/v1/prices/unknown`` finds it (never a silent zero).

A call a re-run answered from its recording (``agentreel.rerun.served``, set by the SDK's
re-run mode) was never sent to the provider: it costs 0 whatever it carried, keeps its tokens,
and says so (``cost_source = "rerun_served"``); a reprice leaves it alone. So a re-run costs
what it spent live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from agentreel.core.model import Span
from agentreel.core.prices import PriceTable, Usage, load_prices

#: ``cost_source`` of a cost computed from the price table.
PRICE_TABLE = "price_table"
#: ``cost_source`` of a cost the span carried.
FROM_SPAN = "span"
#: ``cost_source`` of a call a re-run answered from the recording: not billed.
RERUN_SERVED = "rerun_served"
#: The ``cost_source`` values a reprice keeps (:mod:`.reprice`).
KEPT = (FROM_SPAN, RERUN_SERVED)
#: The attribute the SDK's re-run mode sets (a bool: stored as ``"true"``) on a served call.
SERVED_KEY = "agentreel.rerun.served"

_SHIPPED: PriceTable | None = None


def shipped_prices() -> PriceTable:
    """The table without overrides, loaded once (writers built without a :class:`PriceBook`)."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = load_prices()
    return _SHIPPED


class PriceBook:
    """The server-wide price table: the maintained data and agentreel's corrections, plus
    the operator's overrides file at
    ``path``, read once at start (each project's own overrides go on top:
    :mod:`.price_overrides`)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._table = load_prices(self.path)

    @property
    def table(self) -> PriceTable:
        return self._table


def priced(
    table: PriceTable, model: str, provider: str, usage: Usage, start_ns: int
) -> tuple[float, str]:
    """``(cost, cost_source)`` of an LLM call the span carried no cost for: priced from the
    table, or ``(0.0, "")`` when its model is unknown or it has no tokens."""
    if not (usage.input_tokens or usage.output_tokens):
        return 0.0, ""
    at = datetime.fromtimestamp(start_ns / 1e9, UTC)
    cost = table.cost_as_stored(model, provider, usage, at)
    return (0.0, "") if cost is None else (cost, PRICE_TABLE)


def price_spans(spans: Iterable[Span], table_of: Callable[[str], PriceTable]) -> None:
    """Price the LLM spans that carry no cost of their own (see :func:`priced`), each with
    its project's table (``table_of(project)``, asked once per project); a call a re-run
    served from the recording costs 0."""
    tables: dict[str, PriceTable] = {}
    for span in spans:
        if span.kind != "llm":
            continue
        if span.attributes.get(SERVED_KEY) == "true":
            span.cost_usd, span.cost_source = 0.0, RERUN_SERVED
            continue
        if span.cost_source == FROM_SPAN:
            continue
        table = tables.get(span.project)
        if table is None:
            table = tables[span.project] = table_of(span.project)
        usage = Usage(
            input_tokens=span.input_tokens,
            output_tokens=span.output_tokens,
            cache_read_tokens=span.cache_read_tokens,
            cache_write_tokens=span.cache_write_tokens,
            reasoning_tokens=span.reasoning_tokens,
            total_tokens=span.total_tokens,
        )
        cost, source = priced(table, span.model, span.provider, usage, span.start_ns)
        if source:
            span.cost_usd, span.cost_source = cost, source
