"""A memo of values computed once per object, for one run's replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Memo"]


class Memo:
    """Values computed once per object. A run's windows share their message objects (one per
    stored message), so with a memo each message is hashed or converted once, not once per
    call that repeats it: a 200-call run costs O(messages), not O(calls × window)."""

    def __init__(self) -> None:
        # table → key → (the objects, kept so their ids are not reused, and the value)
        self._tables: dict[str, dict[Any, tuple[Any, Any]]] = {}

    def get(self, table: str, key: Any, keep: Any, compute: Callable[..., Any], *args: Any) -> Any:
        """``compute(*args)``, once per ``key`` (the id, or the ids, of the objects ``keep``
        holds) of ``table``."""
        seen = self._tables.get(table)
        if seen is None:
            seen = self._tables[table] = {}
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = (keep, compute(*args))
        return hit[1]
