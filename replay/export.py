"""Export a run as one self-contained JSON document; import it into another store, losslessly.

The document is described in :mod:`agentreel.replay.rundoc`. :func:`import_run` checks the
whole document before it writes anything and raises :class:`ExportError` naming the
problem. It writes through the storage writer: spans already stored are skipped and one LLM
call counts once, so importing a run twice adds nothing the second time.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from agentreel.core import scores
from agentreel.core.calls import CallSpan, same_call
from agentreel.core.model import ContentItem, MessageEvent, Span
from agentreel.core.version import __version__
from agentreel.storage import columns, queries
from agentreel.storage.writer import Writer

from .rundoc import (
    EVENT_FIELDS,
    FORMAT,
    SPAN_FIELDS,
    VERSION,
    ExportError,
    body_leaves,
    check_document,
    checksum,
    closure,
    parse_document,
    references,
    refs_of,
)

__all__ = ["ExportError", "ImportResult", "export_run", "import_run", "parse_document"]

_ZERO = bytes(16)
#: The model (:class:`Span`) field each document field is imported into.
_MODEL_FIELDS = {c.name: c.field for c in columns.READ}


@dataclass(frozen=True, slots=True)
class ImportResult:
    trace_id: str
    spans_written: int
    already_present: int
    message_events_written: int
    content_written: int


# -- export -----------------------------------------------------------------------------------


def export_run(client: Any, project: str, trace_id: str) -> dict[str, Any] | None:
    """The run ``trace_id`` as a version-1 document; None if there is no such run."""
    rows = queries.trace_spans(client, project, trace_id)
    if not rows:
        return None
    spans = [{name: _out(kind, row[name]) for name, kind in SPAN_FIELDS.items()} for row in rows]
    events = _message_events(client, project, trace_id)
    items: dict[str, dict[str, str]] = {}
    missing: set[str] = set()
    wanted = set(references(spans, events))
    while wanted:  # the items, then the leaves their messages refer to
        found = _stored_content(client, project, wanted)
        missing |= wanted - found.keys()
        items.update({h: _body_out(kind, body) for h, (kind, body) in found.items()})
        leaves = {leaf.hex() for _, body in found.values() for leaf in _leaves(body)}
        wanted = leaves - items.keys() - missing
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": queries.iso_ns(time.time_ns()),
        "exported_by": f"agentreel {__version__}",
        "trace_id": trace_id,
        "spans": spans,
        "message_events": events,
        "content": dict(sorted(items.items())),
        "missing_content": sorted(missing),
    }
    document["checksum"] = checksum(document)
    return document


def _out(kind: str, value: Any) -> Any:
    if kind == "ref":
        return _hex(value)
    if kind == "refs":
        return [_hex(v) for v in value]
    if kind == "refmap":
        return {key: _hex(v) for key, v in value.items()}
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    if kind == "strs":
        return list(value)
    if kind == "strmap":
        return dict(value)
    return int(value) if kind.startswith(("uint", "time")) else value


def _hex(value: Any) -> str:
    raw = _bytes(value)
    return "" if raw in (b"", _ZERO) else raw.hex()


def _bytes(value: Any) -> bytes:
    # Clients give String columns back as text; stored bytes are undone as queries does.
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def _leaves(body: bytes) -> list[bytes]:
    try:
        return body_leaves(body)
    except ValueError:  # a damaged body: exported as it is, the import will say so
        return []


def _body_out(kind: str, body: bytes) -> dict[str, str]:
    try:
        return {"kind": kind, "text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"kind": kind, "base64": base64.b64encode(body).decode("ascii")}


_EVENTS_SQL = (
    "SELECT DISTINCT span_id, toUnixTimestamp64Nano(time) AS t, seq, toString(event_name) AS e, "
    "toString(direction) AS d, ref FROM message_events WHERE project = {project:String} "
    "AND trace_id = {trace:String} ORDER BY span_id, t, seq, e, d, ref"
)


def _message_events(client: Any, project: str, trace_id: str) -> list[dict[str, Any]]:
    result = client.query(_EVENTS_SQL, parameters={"project": project, "trace": trace_id})
    return [
        {
            "span_id": s,
            "time": int(t),
            "seq": int(q),
            "event_name": e,
            "direction": d,
            "ref": _hex(r),
        }
        for s, t, q, e, d, r in result.result_rows
    ]


def _stored_content(client: Any, project: str, hashes: set[str]) -> dict[str, tuple[str, bytes]]:
    """(kind, body) of the stored items among ``hashes`` (hex), by hash."""
    if not hashes:
        return {}
    result = client.query(
        "SELECT hash, any(toString(kind)), any(body) FROM content WHERE project = {project:String} "
        "AND hash IN {hashes:Array(FixedString(16))} GROUP BY hash",
        parameters={"project": project, "hashes": sorted(bytes.fromhex(h) for h in hashes)},
    )
    return {_bytes(h).hex(): (str(k), _bytes(b)) for h, k, b in result.result_rows}


def _stored_hashes(client: Any, project: str, hashes: set[str]) -> set[str]:
    """Those of ``hashes`` (hex) the store has."""
    if not hashes:
        return set()
    result = client.query(
        "SELECT DISTINCT hash FROM content WHERE project = {project:String} "
        "AND hash IN {hashes:Array(FixedString(16))}",
        parameters={"project": project, "hashes": sorted(bytes.fromhex(h) for h in hashes)},
    )
    return {_bytes(row[0]).hex() for row in result.result_rows}


# -- import -----------------------------------------------------------------------------------


def import_run(client: Any, project: str, document: Any) -> ImportResult:
    """Check ``document`` (raises :class:`ExportError`, writing nothing), then store its run
    in ``project``: content first, then the spans and message events not stored yet."""
    checked = check_document(document)
    stored = _stored_hashes(client, project, set(checked.items))

    def contents(refs: Iterable[str]) -> list[ContentItem]:
        needed = closure(refs, checked.leaves)
        return [checked.items[h] for h in needed if h in checked.items and h not in stored]

    spans = [_span(project, checked.trace_id, row, contents) for row in checked.spans]
    have = {_event_key(e) for e in _message_events(client, project, checked.trace_id)}
    events: list[MessageEvent] = []
    for event in checked.events:
        if _event_key(event) not in have:
            have.add(_event_key(event))
            events.append(_event(project, checked.trace_id, event, contents))
    result = Writer(client).write(_write_order(spans), events)
    return ImportResult(
        trace_id=checked.trace_id,
        spans_written=result.spans_written,
        already_present=result.duplicates,
        message_events_written=result.messages_written,
        content_written=result.content_written,
    )


def _span(
    project: str,
    trace_id: str,
    row: dict[str, Any],
    contents: Callable[[Iterable[str]], list[ContentItem]],
) -> Span:
    values = {_MODEL_FIELDS[name]: _in(kind, row[name]) for name, kind in SPAN_FIELDS.items()}
    refs = [ref for name, kind in SPAN_FIELDS.items() for ref in refs_of(kind, row[name])]
    span = Span(project=project, trace_id=trace_id, contents=contents(refs), **values)
    span.scores = scores.of_span(span)[0]  # malformed ones were reported when first received
    return span


def _event(
    project: str,
    trace_id: str,
    e: dict[str, Any],
    contents: Callable[[Iterable[str]], list[ContentItem]],
) -> MessageEvent:
    return MessageEvent(
        project=project,
        trace_id=trace_id,
        span_id=e["span_id"],
        time_ns=e["time"],
        seq=e["seq"],
        event_name=e["event_name"],
        direction=e["direction"],
        ref=bytes.fromhex(e["ref"]),
        contents=contents([e["ref"]]),
    )


def _event_key(event: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(event[field] for field in EVENT_FIELDS)


def _in(kind: str, value: Any) -> Any:
    if kind == "ref":
        return bytes.fromhex(value)
    if kind == "refs":
        return [bytes.fromhex(v) for v in value]
    if kind == "refmap":
        return {key: bytes.fromhex(v) for key, v in value.items()}
    if kind == "float":
        return float(value)
    if kind == "strs":
        return list(value)
    if kind == "strmap":
        return dict(value)
    return value


def _write_order(spans: list[Span]) -> list[Span]:
    """The spans in an order in which the writer's call counting (a span counts unless it is
    the same call as one written before it) gives each the ``counted`` flag it had where it
    was exported: counted LLM spans first, then each other one after a span of its call.
    Start order alone would not do: a provider SDK's span often arrives, and counts, before
    the instrumentor's span it sits under."""
    llm = [s for s in spans if s.kind == "llm"]
    placed = [s for s in llm if s.counted]
    waiting = [s for s in llm if not s.counted]
    i = 0
    while i < len(placed) and waiting:
        anchor = _call(placed[i])
        joined = [s for s in waiting if same_call(_call(s), anchor)]
        placed += joined
        waiting = [s for s in waiting if all(s is not j for j in joined)]
        i += 1
    return [*placed, *waiting, *(s for s in spans if s.kind != "llm")]


def _call(s: Span) -> CallSpan:
    return CallSpan(
        s.span_id,
        s.parent_span_id,
        s.response_id,
        s.scope,
        s.start_ns,
        s.end_ns,
        s.input_tokens,
        s.output_tokens,
    )
