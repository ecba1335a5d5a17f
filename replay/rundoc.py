"""The run document: its version-1 fields, its checksum, and the checks an import relies on.

The document (see :mod:`agentreel.replay.export`, which builds and imports it)::

    {
      "format": "agentreel.run",
      "version": 1,
      "exported_at": "2026-01-05T10:00:00.000000000Z",
      "exported_by": "agentreel 0.1.0",
      "trace_id": "<32 hex>",
      "spans": [{"span_id": "…", "start_time": <ns>, "counted": true,
                 "input_refs": ["<hash hex>", …], "system_ref": "", …}],
      "message_events": [{"span_id": "…", "time": <ns>, "seq": 2, "event_name": "…",
                          "direction": "input", "ref": "<hash hex>"}],
      "content": {"<hash hex>": {"kind": "message", "text": "<stored body>"}},
      "missing_content": [],
      "checksum": "sha256:<hex digest of the canonical JSON of all the other fields>"
    }

A span carries every stored column (:data:`SPAN_FIELDS`, from the column table in
:mod:`agentreel.storage.columns`) but the project, which is the importer's, and what the
store derives (duration, environment, ingest time): times are integer nanoseconds, content
references hex ("" for none). ``content`` holds every item a span or message event refers
to, and the leaves their messages refer to (see :mod:`agentreel.core.content`); a body that
is not UTF-8 is given as ``"base64"`` instead of ``"text"``. ``missing_content`` names
items the exporting store did not have, so the imported run shows them missing just as the
source did.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from agentreel.core import content as addressing
from agentreel.core.model import ContentItem
from agentreel.core.version import __version__
from agentreel.storage import columns

__all__ = [
    "EVENT_FIELDS",
    "FORMAT",
    "SPAN_FIELDS",
    "VERSION",
    "Checked",
    "ExportError",
    "body_leaves",
    "check_document",
    "checksum",
    "closure",
    "parse_document",
    "references",
    "refs_of",
]

FORMAT = "agentreel.run"
VERSION = 1

#: A content hash or trace id as the document writes it.
HASH = re.compile(r"^[0-9a-f]{32}$")

#: How each stored span column is written in the document (types: see ``_TYPES``), from the
#: column table: the columns a trace read returns, in table order.
SPAN_FIELDS: dict[str, str] = {c.name: c.doc for c in columns.READ}
#: How each stored message event is written in the document.
EVENT_FIELDS = {
    "span_id": "str",
    "time": "time",
    "seq": "uint32",
    "event_name": "str",
    "direction": "str",
    "ref": "ref",
}
TOP_FIELDS = {
    "format",
    "version",
    "exported_at",
    "exported_by",
    "trace_id",
    "spans",
    "message_events",
    "content",
    "missing_content",
    "checksum",
}


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and (value == "" or bool(HASH.match(value)))


def _uint(bits: int) -> Callable[[Any], bool]:
    return lambda v: type(v) is int and 0 <= v < 1 << bits


#: Each field type: the test a document value must pass, and how to say what it must be.
_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "uint": (_uint(64), "a whole number from 0 to 2^64-1"),
    "uint32": (_uint(32), "a whole number from 0 to 2^32-1"),
    "uint8": (_uint(8), "a whole number from 0 to 255"),
    "time": (_uint(63), "a time in nanoseconds since 1970 (a whole number)"),
    "float": (lambda v: type(v) in (int, float), "a number"),
    "bool": (lambda v: type(v) is bool, "true or false"),
    "strs": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "strings"),
    "strmap": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "an object of strings",
    ),
    "ref": (_is_ref, 'a content hash (32 lowercase hex digits) or ""'),
    "refs": (lambda v: isinstance(v, list) and all(map(_is_ref, v)), "a list of content hashes"),
    "refmap": (
        lambda v: isinstance(v, dict) and all(map(_is_ref, v.values())),
        "an object of content hashes",
    ),
}


class ExportError(ValueError):
    """An export document that cannot be imported; the message says why. Nothing was written."""


def checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, compact) of every field but ``checksum``."""
    rest = {key: value for key, value in document.items() if key != "checksum"}
    try:
        canonical = orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:  # orjson.JSONEncodeError included
        raise ExportError(f"the document cannot be serialized: {exc}") from None
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def body_leaves(body: bytes) -> list[bytes]:
    """Hashes of the leaves a stored body refers to. ValueError if it is not JSON or a
    reference is not hexadecimal."""
    try:
        return addressing.leaf_refs(orjson.loads(body))
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def refs_of(kind: str, value: Any) -> list[str]:
    """The content hashes a document field of type ``kind`` holds ("" is none)."""
    if kind == "ref":
        return [value] if value else []
    if kind == "refs":
        return [v for v in value if v]
    if kind == "refmap":
        return [v for v in value.values() if v]
    return []


def references(spans: list[dict[str, Any]], events: list[dict[str, Any]]) -> dict[str, str]:
    """Content hashes the spans and events refer to, each with what refers to it first."""
    refs: dict[str, str] = {}
    for span in spans:
        for name, kind in SPAN_FIELDS.items():
            for ref in refs_of(kind, span[name]):
                refs.setdefault(ref, f"span {span['span_id']} ({name})")
    for event in events:
        if event["ref"]:
            where = f"the {event['event_name']} event of span {event['span_id']}"
            refs.setdefault(event["ref"], where)
    return refs


def parse_document(body: bytes) -> Any:
    """The JSON of an export file; :class:`ExportError` if it is cut short or not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ExportError(f"the file is not complete JSON (truncated or damaged?): {exc}") from None


@dataclass(slots=True)
class Checked:
    """A document that passed :func:`check_document`: what an import needs of it."""

    trace_id: str
    spans: list[dict[str, Any]]
    events: list[dict[str, Any]]
    #: The document's content items by hash (hex), and the leaves each refers to.
    items: dict[str, ContentItem]
    leaves: dict[str, list[str]]


def check_document(document: Any) -> Checked:
    """Check everything an import relies on; :class:`ExportError` names the first problem."""
    if not isinstance(document, dict):
        raise ExportError(f"an export document is a JSON object, not {type(document).__name__}")
    if document.get("format") != FORMAT:
        raise ExportError(
            f"not an agentreel run export: format is {document.get('format')!r}, not {FORMAT!r}"
        )
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise ExportError(
            f"export format version {version!r} is not supported: agentreel {__version__} "
            f"reads version {VERSION}; export the run again with a matching agentreel"
        )
    _check_fields(document, TOP_FIELDS, "the document")
    if document["checksum"] != checksum(document):
        raise ExportError("checksum mismatch: the document was changed or damaged after export")
    trace_id = document["trace_id"]
    if not isinstance(trace_id, str) or not HASH.match(trace_id):
        raise ExportError("trace_id must be 32 lowercase hexadecimal digits")
    spans = _records(document["spans"], "spans", SPAN_FIELDS)
    if not spans:
        raise ExportError("the document has no spans")
    seen: set[str] = set()
    for span in spans:
        if span["span_id"] in seen:
            raise ExportError(f"span {span['span_id']} appears twice")
        seen.add(span["span_id"])
    events = _records(document["message_events"], "message_events", EVENT_FIELDS)
    for i, event in enumerate(events):
        if event["direction"] not in ("input", "output"):
            raise ExportError(f"message_events[{i}].direction must be input or output")
        if not event["ref"]:
            raise ExportError(f"message_events[{i}].ref must name a content item")
    items, leaves = _check_content(document["content"], document["missing_content"])
    missing = set(document["missing_content"])
    for ref, where in references(spans, events).items():
        _check_closure(ref, where, items, leaves, missing)
    return Checked(trace_id, spans, events, items, leaves)


def _check_fields(record: dict[str, Any], fields: Iterable[str], where: str) -> None:
    expected = set(fields)
    missing, unknown = sorted(expected - record.keys()), sorted(record.keys() - expected)
    if missing:
        raise ExportError(f"{where} has no {missing[0]!r} field")
    if unknown:
        raise ExportError(f"{where} has an unknown field {unknown[0]!r}")


def _records(value: Any, name: str, fields: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ExportError(f"{name} must be a list")
    for i, record in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(record, dict):
            raise ExportError(f"{where} must be an object")
        _check_fields(record, fields, where)
        for field, kind in fields.items():
            test, what = _TYPES[kind]
            if not test(record[field]):
                raise ExportError(f"{where}.{field} must be {what}")
    return value


def _check_content(
    content: Any, missing: Any
) -> tuple[dict[str, ContentItem], dict[str, list[str]]]:
    if not isinstance(content, dict):
        raise ExportError("content must be an object of content items by hash")
    if not isinstance(missing, list) or not all(
        isinstance(h, str) and HASH.match(h) for h in missing
    ):
        raise ExportError("missing_content must be a list of content hashes")
    declared_missing = set(missing)
    items: dict[str, ContentItem] = {}
    leaves: dict[str, list[str]] = {}
    for key, value in content.items():
        where = f"content item {key}"
        if not HASH.match(key):
            raise ExportError(f"{where}: a content key is 32 lowercase hexadecimal digits")
        if key in declared_missing:
            raise ExportError(f"{where} is both in content and in missing_content")
        if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
            raise ExportError(f"{where} must be an object with a kind")
        body = _body_in(value, where)
        if addressing.address(body, value["kind"]).hex() != key:
            raise ExportError(f"{where} does not match its hash: its body was changed")
        try:
            # Only messages are written with leaves (replay expands nothing else).
            found = body_leaves(body) if value["kind"] == "message" else []
            leaves[key] = [leaf.hex() for leaf in found]
        except ValueError as exc:
            raise ExportError(f"{where} is not a valid stored value: {exc}") from None
        items[key] = ContentItem(bytes.fromhex(key), value["kind"], body)
    return items, leaves


def _body_in(value: dict[str, Any], where: str) -> bytes:
    if set(value) == {"kind", "text"} and isinstance(value["text"], str):
        try:
            return value["text"].encode("utf-8")
        except UnicodeEncodeError:
            raise ExportError(f"{where}: text is not valid Unicode") from None
    if set(value) == {"kind", "base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except binascii.Error:
            raise ExportError(f"{where}: base64 does not decode") from None
    raise ExportError(f'{where} must have a kind and either "text" or "base64"')


def _check_closure(
    ref: str,
    where: str,
    items: dict[str, ContentItem],
    leaves: dict[str, list[str]],
    missing: set[str],
) -> None:
    for needed in closure([ref], leaves):
        if needed not in items and needed not in missing:
            what = where if needed == ref else f"a message that {where} refers to"
            raise ExportError(f"content item {needed} is not in the document ({what} needs it)")


def closure(refs: Iterable[str], leaves: dict[str, list[str]]) -> list[str]:
    """``refs`` and every leaf they lead to."""
    out: list[str] = []
    todo = [r for r in refs if r]
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref not in seen:
            seen.add(ref)
            out.append(ref)
            todo.extend(leaves.get(ref, ()))
    return out
