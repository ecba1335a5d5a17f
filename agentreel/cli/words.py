"""How the CLI says a count (``1 run``, ``2 runs``, ``1 LLM call``) and an amount of dollars."""

from __future__ import annotations

import math


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def dollars(usd: float) -> str:
    """``$`` and the amount: four decimals, or two significant digits below a cent."""
    if usd == 0 or abs(usd) >= 0.01:
        return f"${usd:,.4f}"
    return f"${usd:.{min(10, 1 - math.floor(math.log10(abs(usd))))}f}"
