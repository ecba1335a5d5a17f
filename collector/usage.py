"""Token counts past the ``max_tokens_per_span`` setting: not counted, not priced.

A count of 2**63-1 input tokens is a valid 64-bit number, and priced it makes a project's
cost $2.3e13. No model reads or writes anywhere near ``max_tokens_per_span`` tokens in one
call (100M by default, ten times the largest context window in 2026), so a span over it
carries a broken count: none of its counts are kept (one of them is wrong, the others are
not to be trusted), so it adds nothing to any total and is priced at nothing, now or by a
later reprice. The span itself is kept, its counts as they came in the attribute
:data:`OVER_KEY`, and the export's ``partial_success`` says why.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from agentreel.core.model import Span

#: The span's token fields, as the normalizers fill them.
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
)
#: Attribute keeping the counts of a span that was over the limit, as they came (JSON).
OVER_KEY = "agentreel.tokens_over_limit"
#: Attribute keeping the usage (and cost) an agent, workflow or tool span carried (JSON).
AGGREGATE_KEY = "agentreel.aggregate_usage"
#: Span kinds that are not model calls: usage on them is their children's, summed.
NOT_CALLS = frozenset({"agent", "chain", "tool"})


def aggregate_usage(span: Span) -> None:
    """Move the usage of a span that is not a model call out of its counted fields.

    The GenAI conventions let an ``invoke_agent`` (or workflow) span carry its run's total
    ``gen_ai.usage.*``; OpenInference AGENT/CHAIN spans may carry ``llm.token_count.*`` and
    OpenLLMetry workflow/agent spans ``gen_ai.usage.*``. Those are the sums of the LLM calls
    under them, so counting them as well counts every token twice. Such a span's counts (and
    a cost it carried) are kept in :data:`AGGREGATE_KEY` and count nowhere: run totals and
    cost are the sums of the calls themselves.
    """
    if span.kind not in NOT_CALLS:
        return
    counts = {name: getattr(span, name) for name in TOKEN_FIELDS if getattr(span, name)}
    if span.cost_source == "span" and span.cost_usd:
        counts["cost_usd"] = span.cost_usd
    if not counts:
        return
    for name in TOKEN_FIELDS:
        setattr(span, name, 0)
    if span.cost_source == "span":
        span.cost_usd, span.cost_source = 0.0, ""
    span.attributes[AGGREGATE_KEY] = orjson.dumps(counts).decode()


def drop_counts_over(spans: Iterable[Span], limit: int) -> int:
    """Clear every token count of each span carrying one over ``limit``; how many spans."""
    dropped = 0
    for span in spans:
        counts = {name: getattr(span, name) for name in TOKEN_FIELDS}
        over = [f"{name} {value}" for name, value in counts.items() if value > limit]
        if not over:
            continue
        for name in TOKEN_FIELDS:
            setattr(span, name, 0)
        span.attributes[OVER_KEY] = orjson.dumps({k: v for k, v in counts.items() if v}).decode()
        span.warnings.append(
            f"{', '.join(over)} over {limit} (max_tokens_per_span): "
            "its token counts are not kept and it is not priced"
        )
        dropped += 1
    return dropped
