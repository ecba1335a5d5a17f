"""Content addressing: each distinct message (or tool list, argument, result) is stored once.

The body is the compact JSON of the canonical value with key order preserved (the order the
instrumentor wrote is part of what replay must give back). The address is a 16-byte BLAKE2b
digest of the body, so the same message repeated in every later call of a run, or in
every run of an agent (a system prompt), costs its bytes once.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from .model import ContentItem

HASH_BYTES = 16


def encode(value: Any) -> bytes:
    """The canonical bytes of a content value."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def address(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=HASH_BYTES).digest()


def item(kind: str, value: Any) -> ContentItem:
    """Encode ``value`` and address it."""
    body = encode(value)
    return ContentItem(address(body), kind, body)


def decode(body: bytes) -> Any:
    return orjson.loads(body)
