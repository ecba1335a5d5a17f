"""Small helpers on text and JSON values that several parts share."""

from __future__ import annotations

from typing import Any

import orjson


def maybe_json(value: Any) -> Any:
    """Parse a string that holds JSON; anything else, or text that is not JSON, as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def text_of(value: Any) -> str:
    """Text as it is; None as ""; anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
