"""Small readers shared by the convention normalizers.

Every reader *pops* what it consumes from the working attribute dict, so what is left at the
end is exactly what no normalizer understood, and is kept on the span as it came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

Attrs = dict[str, Any]


def pop_str(attrs: Attrs, *keys: str) -> str:
    """The first of ``keys`` present, as a string; all of them are consumed."""
    found = ""
    for key in keys:
        value = attrs.pop(key, None)
        if value is None or found:
            continue
        if isinstance(value, list):
            value = value[0] if value else ""
        found = value if isinstance(value, str) else str(value)
    return found


def pop_int(attrs: Attrs, *keys: str) -> int:
    """The first of ``keys`` holding an integer (or a numeric string); all are consumed."""
    found: int | None = None
    for key in keys:
        value = attrs.pop(key, None)
        if found is not None or value is None:
            continue
        found = as_int(value)
    return found or 0


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value:
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return None
    return None


def pop_float(attrs: Attrs, *keys: str) -> float | None:
    found: float | None = None
    for key in keys:
        value = attrs.pop(key, None)
        if found is not None or value is None or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found = float(value)
        elif isinstance(value, str):
            try:
                found = float(value)
            except ValueError:
                found = None
    return found


def maybe_json(value: Any) -> Any:
    """Parse a string that holds JSON; anything else, or text that is not JSON, as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


@dataclass(frozen=True, slots=True)
class RawJson:
    """Content that arrived as JSON text, parsed later (and memoized) by the content step."""

    text: str
    key: str


_INDEXED = re.compile(r"^(\d+)\.(.+)$")


def pop_indexed(attrs: Attrs, prefix: str) -> dict[int, Attrs]:
    """Consume ``prefix.{i}.rest`` keys into ``{i: {rest: value}}``, ordered by ``i``."""
    out: dict[int, Attrs] = {}
    plen = len(prefix)
    for key in [k for k in attrs if k.startswith(prefix)]:
        match = _INDEXED.match(key[plen:])
        if match is None:
            continue
        out.setdefault(int(match.group(1)), {})[match.group(2)] = attrs.pop(key)
    return dict(sorted(out.items()))


def split_indexed(fields: Attrs, prefix: str) -> dict[int, Attrs]:
    """Like :func:`pop_indexed` on an already grouped dict (nested lists such as tool calls)."""
    return pop_indexed(fields, prefix)


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
