"""Content addressing: each distinct message, tool list, argument or result is stored once.

Every item's body is the compact JSON of a value, key order preserved (the order the
instrumentor wrote is part of what replay must give back); its address is the 16-byte
BLAKE2b digest of the body, personalized with the item's kind. Two rules keep storage and CPU O(steps) where the spans are
O(steps²):

* **Leaves.** A long string inside a message part (a tool result, a document) becomes an
  item of its own, and the part holds ``{"@ref": "<hex>"}`` in its place. The tool span's
  result is the same string, so it is stored once for both. A part value that happens to
  be a lone ``{"@ref": …}`` object is escaped as ``{"@lit": …}``, so expansion is exact.
* **Prefixes.** An LLM span repeats the conversation so far. :class:`PrefixCache`
  remembers, per trace, the last input-messages string and its items; when the next call's
  string extends it, only the appended messages are parsed, encoded and hashed.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from .model import ContentItem

HASH_BYTES = 16
#: Strings at least this long inside message parts are stored as their own items.
LEAF_MIN_CHARS = 256
#: Part fields whose long string values become leaves.
_LEAF_FIELDS = ("content", "response", "arguments", "result")
REF = "@ref"
LIT = "@lit"


def encode(value: Any) -> bytes:
    """The canonical bytes of a content value."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=_plain)


def _plain(value: Any) -> Any:
    """What JSON cannot hold as it is: bytes (an OTLP bytesValue) as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, int):  # beyond 64 bits
        return str(value)
    raise TypeError(f"{type(value).__name__} is not content")


def address(body: bytes, kind: str) -> bytes:
    """The address of an item: its kind and body together, so identical bytes of two kinds
    (a system prompt that spells a stored message, say) never share one, and replay can tell
    which items hold leaves."""
    return hashlib.blake2b(body, digest_size=HASH_BYTES, person=kind.encode()[:16]).digest()


def item(kind: str, value: Any) -> ContentItem:
    """Encode ``value`` and address it."""
    body = encode(value)
    return ContentItem(address(body, kind), kind, body)


def text_item(text: str) -> ContentItem:
    """A string as an item; the same string gives the same item wherever it appears."""
    return item("text", text)


def message_items(message: Any) -> list[ContentItem]:
    """A message as items: the message first (long strings replaced by refs), then leaves."""
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        return [item("message", message)]
    leaves: list[ContentItem] = []
    parts = []
    for part in message["parts"]:
        if not isinstance(part, dict):
            parts.append(part)
            continue
        out = dict(part)
        for field in _LEAF_FIELDS:
            value = out.get(field)
            if isinstance(value, str) and len(value) >= LEAF_MIN_CHARS:
                leaf = text_item(value)
                leaves.append(leaf)
                out[field] = {REF: leaf.hash.hex()}
            elif isinstance(value, dict) and len(value) == 1 and (REF in value or LIT in value):
                out[field] = {LIT: value}
        parts.append(out)
    head = item("message", {**message, "parts": parts})
    return [head, *leaves]


def decode(body: bytes) -> Any:
    return orjson.loads(body)


def expand(value: Any, bodies: dict[bytes, bytes], missing: list[str]) -> Any:
    """Undo :func:`message_items`: put leaf strings back in place of their refs."""
    if not isinstance(value, dict) or not isinstance(value.get("parts"), list):
        return value
    parts = []
    for part in value["parts"]:
        if isinstance(part, dict):
            part = dict(part)
            for field in _LEAF_FIELDS:
                inner = part.get(field)
                if isinstance(inner, dict) and len(inner) == 1:
                    if REF in inner:
                        ref = bytes.fromhex(inner[REF])
                        body = bodies.get(ref)
                        if body is None:
                            missing.append(inner[REF])
                        else:
                            part[field] = orjson.loads(body)
                    elif LIT in inner:
                        part[field] = inner[LIT]
        parts.append(part)
    return {**value, "parts": parts}


def leaf_refs(value: Any) -> list[bytes]:
    """Hashes of the leaves a stored message refers to."""
    refs: list[bytes] = []
    if isinstance(value, dict) and isinstance(value.get("parts"), list):
        for part in value["parts"]:
            if isinstance(part, dict):
                for field in _LEAF_FIELDS:
                    inner = part.get(field)
                    if isinstance(inner, dict) and len(inner) == 1 and REF in inner:
                        refs.append(bytes.fromhex(inner[REF]))
    return refs


class MessageGroup:
    """The items of one call's input messages, built on the previous call's group.

    ``messages[:inherited]`` are the base group's messages. Once the writer has stored the
    base (``base.written``), only the appended messages need to reach the store; if it has
    not (a failed or later batch), all of them do, so content a span carried is never lost
    to a write that failed elsewhere.
    """

    __slots__ = ("base", "finish_reasons", "inherited", "messages", "written")

    def __init__(
        self,
        messages: list[list[ContentItem]],
        base: MessageGroup | None = None,
        inherited: int = 0,
    ) -> None:
        self.messages = messages
        self.base = base
        self.inherited = inherited
        self.written = False
        #: Output messages only: each message's finish_reason, kept apart from its item.
        self.finish_reasons: list[str] = []

    @property
    def refs(self) -> list[bytes]:
        return [items[0].hash for items in self.messages]

    def pending(self, batch: set[int] | None = None) -> list[ContentItem]:
        """Items the writer must store for this group; ``batch`` holds the ids of the groups
        written together with it (content of one batch is written, or fails, as a whole)."""
        base = self.base
        stored = base is not None and (base.written or (batch is not None and id(base) in batch))
        start = self.inherited if stored else 0
        return [item for items in self.messages[start:] for item in items]

    def mark_written(self) -> None:
        self.written = True
        self.base = None  # let the chain of earlier groups be collected


@dataclass(slots=True)
class _Seen:
    raw: str
    group: MessageGroup


class ContentCache:
    """Memo of encoded content, so repeated JSON is not parsed, encoded and hashed again.

    * per trace, the last input-messages string and the items of each of its messages;
    * values that recur verbatim across runs (system instructions, tool definitions).

    Both are bounded LRUs. Used from several receiver threads: each step is a single dict
    operation under the GIL, and a lost update only costs a full parse.
    """

    def __init__(self, max_traces: int = 512, max_values: int = 256) -> None:
        self._max = max_traces
        self._max_values = max_values
        self._seen: OrderedDict[tuple[str, str], _Seen] = OrderedDict()
        self._values: OrderedDict[tuple[str, str], ContentItem] = OrderedDict()

    def value(self, kind: str, raw: str) -> ContentItem:
        """The item of the JSON text ``raw``. Raises ``orjson.JSONDecodeError``."""
        key = (kind, raw)
        found = self._values.get(key)
        if found is None:
            found = item(kind, orjson.loads(raw))
            self._values[key] = found
            while len(self._values) > self._max_values:
                self._values.popitem(last=False)
        return found

    def messages(self, key: tuple[str, str], raw: str) -> MessageGroup | None:
        """The message group of the JSON array ``raw``, or None if it is not a JSON array.

        Raises ``orjson.JSONDecodeError`` when ``raw`` does not parse.
        """
        seen = self._seen.get(key)
        result: MessageGroup | None = None
        if seen is not None and len(raw) > len(seen.raw):
            result = _extend(seen, raw)
        if result is None:
            value = orjson.loads(raw)
            if not isinstance(value, list):
                return None
            result = MessageGroup([message_items(m) for m in value])
        self._seen[key] = _Seen(raw, result)
        self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return result


def _extend(seen: _Seen, raw: str) -> MessageGroup | None:
    """The group of ``raw`` when it is ``seen.raw`` with messages appended; else None."""
    prefix = seen.raw.rstrip()
    base = seen.group
    if not base.messages or not prefix.endswith("]"):
        return None
    head = prefix[:-1]
    if not raw.startswith(head):
        return None
    rest = raw[len(head) :].lstrip()
    if not rest.startswith(","):
        return None
    try:
        added = orjson.loads("[" + rest[1:])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(added, list) or not added:
        return None
    messages = [*base.messages, *(message_items(m) for m in added)]
    return MessageGroup(messages, base, len(base.messages))
