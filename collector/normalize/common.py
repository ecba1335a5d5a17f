"""Small readers shared by the convention normalizers.

Every reader *pops* what it consumes from the working attribute dict, so what is left at the
end is exactly what no normalizer understood, and is kept on the span as it came.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

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


#: Largest count the store's UInt64 columns take through a signed reader (2**63 - 1).
MAX_COUNT = 2**63 - 1


def pop_int(attrs: Attrs, *keys: str) -> int:
    """The first of ``keys`` holding a valid count (a whole number 0..2**63-1, or its text).

    Valid keys are consumed. A value that is not a valid count (negative, as some emitters
    write for "unknown", fractional, non-finite) stays in the attributes as it came.
    """
    found: int | None = None
    for key in keys:
        if key not in attrs:
            continue
        count = as_count(attrs[key])
        if count is None:
            continue
        attrs.pop(key)
        if found is None:
            found = count
    return found or 0


def as_count(value: Any) -> int | None:
    number: float | int
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
    else:
        return None
    if isinstance(number, float):
        if not math.isfinite(number) or not number.is_integer():
            return None
        number = int(number)
    return number if 0 <= number <= MAX_COUNT else None


def pop_float(attrs: Attrs, *keys: str) -> float | None:
    """The first of ``keys`` holding a finite number; others stay in the attributes."""
    found: float | None = None
    for key in keys:
        value = attrs.get(key)
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            continue
        attrs.pop(key)
        if found is None:
            found = number
    return found


@dataclass(frozen=True, slots=True)
class RawJson:
    """Content that arrived as JSON text, parsed later (and memoized) by the content step."""

    text: str
    key: str


#: Index of a flattened list key (``llm.input_messages.{i}.…``); longer ones stay attributes.
_INDEXED = re.compile(r"^(\d{1,9})\.(.+)$")


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


def tool_call_part(fields: Attrs, id_key: str, name_key: str, arguments_key: str) -> dict[str, Any]:
    """A canonical ``tool_call`` part from one flattened tool call's keys (consumed);
    keys no rule knows stay with the part as ``attributes``."""
    part: dict[str, Any] = {"type": "tool_call"}
    call_id = pop_str(fields, id_key)
    if call_id:
        part["id"] = call_id
    part["name"] = pop_str(fields, name_key)
    if arguments_key in fields:
        part["arguments"] = fields.pop(arguments_key)
    if fields:
        part["attributes"] = fields
    return part
