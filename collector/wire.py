"""An OTLP protobuf request cut at the wire level into its resources, scopes and items.

upb refuses a whole message for one flaw deep inside it: a string that is not UTF-8, or
nesting past its depth limit of 100 messages (an attribute value nested 32 key-value lists
deep is 102 messages below the request, but 98 below its span). When it refuses a request,
the decoder cuts the request here and parses each span or log record on its own, so that
only the flawed ones are rejected. The happy path never comes here.

``ExportTraceServiceRequest`` and ``ExportLogsServiceRequest`` have the same shape: field 1
repeats ``Resource{Spans,Logs}``, whose field 1 is the resource and field 2 repeats
``Scope{Spans,Logs}``, whose field 1 is the scope and field 2 repeats the items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not protobuf at all (a field or a length runs past the end)."""


@dataclass(slots=True)
class Scoped:
    """One ``Scope{Spans,Logs}``: the scope's bytes and each item's bytes."""

    scope: bytes = b""
    items: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class Resourced:
    """One ``Resource{Spans,Logs}``: the resource's bytes and its scopes."""

    resource: bytes = b""
    scopes: list[Scoped] = field(default_factory=list)


def split_request(body: bytes) -> list[Resourced]:
    """Cut an export request into resources, scopes and items (raises :class:`WireError`)."""
    out = []
    for resourced in _fields(body).get(1, []):
        parts = _fields(resourced)
        scopes = []
        for scoped in parts.get(2, []):
            inner = _fields(scoped)
            # A message field sent twice is merged, as parsing the concatenation does.
            scopes.append(Scoped(b"".join(inner.get(1, [])), inner.get(2, [])))
        out.append(Resourced(b"".join(parts.get(1, [])), scopes))
    return out


def _fields(data: bytes) -> dict[int, list[bytes]]:
    """The length-delimited fields of one message by number; other fields are skipped."""
    out: dict[int, list[bytes]] = {}
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == _VARINT:
            _, pos = _varint(data, pos)
        elif wire_type == _I64:
            pos += 8
        elif wire_type == _I32:
            pos += 4
        elif wire_type == _LEN:
            size, pos = _varint(data, pos)
            out.setdefault(number, []).append(data[pos : pos + size])
            pos += size
        else:
            raise WireError(f"wire type {wire_type} of field {number}")
        if pos > end:
            raise WireError(f"field {number} runs past the end")
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("a varint runs past the end or over 10 bytes")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
