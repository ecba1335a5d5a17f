"""Sizing ``agentreel mcp``'s answers for a model's context: long strings clipped with a marker
that says how much was left out, whole answers kept under a budget.

A coding agent reads every character it is given, so the answers are compact JSON (no
indentation) and no value grows without bound: a 40 kB tool result costs the model as much
as the rest of the run. What is clipped says so, and the tool descriptions say how to get
the rest (a larger ``max_chars``, the next page).
"""

from __future__ import annotations

import json
from typing import Any

#: Longest answer (characters of JSON) a tool gives; past it, strings are clipped harder.
ANSWER_CHARS = 24_000
#: The shortest clip :func:`fit` goes down to before it cuts the JSON text itself.
_FLOOR_CHARS = 40


def clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and a marker naming what was cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated: {len(text) - limit} more chars]"


def clipped(value: Any, limit: int) -> Any:
    """``value`` with every string in it (at any depth) clipped to ``limit`` characters."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: clipped(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clipped(v, limit) for v in value]
    return value


def as_text(value: Any) -> str:
    """A tool argument or result as the model sent or got it: strings as they are, the rest as
    compact JSON."""
    if isinstance(value, str):
        return value
    return dumps(value)


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept (it is shorter and a model reads it as text)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def fit(answer: dict[str, Any], budget: int = ANSWER_CHARS) -> str:
    """``answer`` as compact JSON of at most ``budget`` characters.

    Strings are clipped harder until it fits (the answer then says to what length); an answer
    that still does not fit is cut, with a marker, as a last resort.
    """
    text = dumps(answer)
    limit = _longest_string(answer)
    while len(text) > budget and limit > _FLOOR_CHARS:
        limit = max(_FLOOR_CHARS, limit // 2)
        smaller = clipped(answer, limit)
        smaller["note"] = (
            f"answer over {budget} chars: every string clipped to {limit} chars; "
            "ask for fewer items (a smaller page) to see more of each"
        )
        text = dumps(smaller)
    if len(text) > budget:
        return clip(text, budget) + " (answer cut to fit; ask for a smaller page)"
    return text


def _longest_string(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest_string(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return max((_longest_string(v) for v in value), default=0)
    return 0


def page(total: int, first: int, count: int, what: str) -> dict[str, Any]:
    """What a page of ``count`` items from number ``first`` (1-based) of ``total`` shows."""
    last = first + count - 1
    shown = f"{first}-{last} of {total}" if count else f"none of {total}"
    out: dict[str, Any] = {f"{what}_shown": shown}
    if last < total:
        out[f"next_first_{what.rstrip('s')}"] = last + 1
    return out
