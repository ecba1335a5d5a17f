"""Writes normalized batches: each span once, each piece of content once, calls counted once.

One writer per store connection, called from one thread: the order of its batches is the
order spans are checked against what is stored, which is what makes "a span delivered twice
is stored once" hold for everything this process accepts.

Those checks are per process and per arrival order, so the totals they give are
provisional: another collector may store the same span at the same instant, and a call's
spans may arrive in an order that hides that they are one call. Every
:data:`RECONCILE_SECONDS` the writer has the runs it touched made exact from their distinct
spans (:mod:`.exact`), and :meth:`Writer.reconcile` does it at once (at shutdown, in tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from agentreel.core.calls import (
    CLIENT_SCOPES,
    CallSpan,
    ToolSpan,
    same_call,
    same_tool_call,
)
from agentreel.core.model import MessageEvent, MetricPoint, Span
from agentreel.core.prices import PriceTable

from . import columns, crashpoints, stepdaily
from .costing import price_spans, shipped_prices
from .genai_metrics import insert_points
from .scores import insert as insert_scores

if TYPE_CHECKING:
    from .exact import Reconciled

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How often the runs a writer touched are checked against their distinct spans: the longest
#: a run's totals stay provisional (another writer's duplicate, a call's late middle span).
RECONCILE_SECONDS = 5.0

#: Content hashes remembered as written (per generation; two are kept), so repeats skip the
#: insert. Forgetting one only costs a second insert, which the table folds.
CONTENT_CACHE_SIZE = 100_000

#: Bumped when content is deleted (retention): every writer then forgets what it remembered.
_content_epoch = 0


def forget_content() -> None:
    """Make every writer forget which content it stored (some of it was deleted)."""
    global _content_epoch
    _content_epoch += 1


#: The columns of a span insert (see :mod:`.columns`).
SPAN_COLUMNS = tuple(c.name for c in columns.INSERTED)

_MESSAGE_COLUMNS = (
    "project",
    "trace_id",
    "span_id",
    "time",
    "seq",
    "event_name",
    "direction",
    "ref",
    "ingested_at",
)


@dataclass(slots=True)
class WriteResult:
    spans_written: int = 0
    duplicates: int = 0
    messages_written: int = 0
    points_written: int = 0
    content_written: int = 0
    content_bytes: int = 0


class Writer:
    """Turns batches of normalized spans into inserts."""

    def __init__(
        self, client: Any, prices: Callable[[str], PriceTable] = lambda _: shipped_prices()
    ) -> None:
        self._client = client
        #: A project's price table in force, asked per batch (overrides may change it).
        self._prices = prices
        # Two generations: a hash is "seen" in either; when the young one fills, it ages.
        self._seen_young: set[tuple[str, bytes]] = set()
        self._seen_old: set[tuple[str, bytes]] = set()
        #: Runs written since the last reconcile, and when the next one is due.
        self._touched: set[tuple[str, str]] = set()
        self._reconcile_at = time.monotonic() + RECONCILE_SECONDS
        self._epoch = _content_epoch

    def reconcile(self) -> Reconciled:
        """Make the runs written since the last reconcile exact (see :mod:`.exact`)."""
        # Here, not at the top: .exact re-derives through .rederive, which imports this module.
        from . import exact

        touched, self._touched = self._touched, set()
        self._reconcile_at = time.monotonic() + RECONCILE_SECONDS
        try:
            return exact.reconcile(self._client, touched)
        except Exception:
            self._touched |= touched  # checked again next time: the store may be back
            raise

    def _reconcile_if_due(self) -> None:
        if not self._touched or time.monotonic() < self._reconcile_at:
            return
        try:
            done = self.reconcile()
        except Exception as exc:  # the batch is stored; its totals stay provisional a while
            log.warning("reconciling run totals failed, retrying later: %s", exc)
            return
        if done.runs_rederived:
            log.info(
                "run totals: %d of %d runs re-derived from distinct spans (%d spans re-flagged)",
                done.runs_rederived,
                done.runs_checked,
                done.spans_reflagged,
            )

    def write(
        self,
        spans: list[Span],
        messages: list[MessageEvent],
        points: Sequence[MetricPoint] = (),
    ) -> WriteResult:
        result = WriteResult()
        if points:
            insert_points(self._client, points)
            result.points_written = len(points)
        unique: dict[tuple[str, str, str], Span] = {}
        for span in spans:
            unique.setdefault(span.key, span)
        stored = stored_keys(self._client, unique)
        fresh = [s for k, s in unique.items() if k not in stored]
        result.duplicates = len(spans) - len(fresh)
        if any(s.kind == "llm" for s in fresh):
            _mark_nested_calls(fresh, self._stored_calls(fresh))
            price_spans(fresh, self._prices)
        if any(s.kind == "tool" for s in fresh):
            _mark_nested_tools(fresh, self._stored_tools(fresh))
        # Content first, so a stored span's references always resolve.
        items = [(s.project, c) for s in fresh for c in s.contents]
        groups = [s for s in fresh if s.input_group is not None]
        in_batch = {id(s.input_group) for s in groups}
        items += [(s.project, c) for s in groups for c in s.input_group.pending(in_batch)]
        items += [(m.project, c) for m in messages for c in m.contents]
        result.content_written, result.content_bytes = self._write_content(items)
        # Read before the batch is stored: a root in it must not count as stored before.
        steps = stepdaily.step_rows(self._client, fresh)
        now_ms = int(time.time() * 1000)
        if fresh:
            self._client.insert(
                "spans",
                _span_columns(fresh, now_ms),
                column_names=SPAN_COLUMNS,
                column_oriented=True,
            )
        crashpoints.reached("spans")
        if messages:
            rows = [
                [
                    m.project,
                    m.trace_id,
                    m.span_id,
                    m.time_ns,
                    m.seq,
                    m.event_name,
                    m.direction,
                    m.ref,
                    now_ms,
                ]
                for m in messages
            ]
            self._client.insert("message_events", rows, column_names=_MESSAGE_COLUMNS)
        stepdaily.insert(self._client, steps)
        crashpoints.reached("rollups")
        scores = [score.row(s.project) for s in fresh for score in s.scores]
        if scores:  # after the spans: a score's run is stored before the score
            insert_scores(self._client, scores)
        for span in groups:
            span.input_group.mark_written()
        result.spans_written = len(fresh)
        result.messages_written = len(messages)
        self._touched.update((s.project, s.trace_id) for s in unique.values())
        self._reconcile_if_due()
        return result

    # -- related stored spans -----------------------------------------------------------------

    def _stored_tools(self, fresh: list[Span]) -> dict[tuple[str, str], list[ToolSpan]]:
        """Stored tool spans a fresh tool span could record the same call as."""
        return self._related(
            [s for s in fresh if s.kind == "tool"],
            "tool",
            "toString(tool_name), tool_call_id",
            "tool_call_id != '' AND tool_call_id IN {call_ids:Array(String)}",
            lambda mine: {"call_ids": sorted({s.tool_call_id for s in mine if s.tool_call_id})},
            ToolSpan,
        )

    def _stored_calls(self, fresh: list[Span]) -> dict[tuple[str, str], list[CallSpan]]:
        """Stored LLM spans that a fresh LLM span could be the same call as (see
        :mod:`agentreel.core.calls`), by (project, trace). Every stored LLM span belongs
        to a call that is already counted, so matching any of them means "not again"."""
        return self._related(
            [s for s in fresh if s.kind == "llm"],
            "llm",
            "response_id, toString(scope), toUnixTimestamp64Nano(start_time), "
            "toUnixTimestamp64Nano(end_time), input_tokens, output_tokens",
            "(response_id != '' AND response_id IN {responses:Array(String)}) "
            "OR (toString(scope) IN {sdk:Array(String)} AND input_tokens IN {others:Array(UInt64)}) "
            "OR input_tokens IN {tokens:Array(UInt64)}",
            lambda mine: {
                "responses": sorted({s.response_id for s in mine if s.response_id}),
                "sdk": sorted(CLIENT_SCOPES),
                # Rule 3 pairs a client-level span with another of equal tokens: stored
                # client-level spans for this batch's other spans, stored spans of any scope
                # for its client-level ones.
                "others": sorted({s.input_tokens for s in mine if s.scope not in CLIENT_SCOPES}),
                "tokens": sorted({s.input_tokens for s in mine if s.scope in CLIENT_SCOPES}),
            },
            CallSpan,
        )

    def _related(
        self,
        spans: list[Span],
        kind: str,
        columns: str,
        condition: str,
        params: Callable[[list[Span]], dict[str, Any]],
        make: Callable[..., T],
    ) -> dict[tuple[str, str], list[T]]:
        """Stored spans of ``kind`` in these spans' traces that are their parent or child, or
        meet ``condition``; ``make`` builds each from ``span_id, parent_span_id, *columns``."""
        found: dict[tuple[str, str], list[T]] = {}
        for project in {s.project for s in spans}:
            mine = [s for s in spans if s.project == project]
            result = self._client.query(
                f"SELECT trace_id, span_id, parent_span_id, {columns} FROM spans "
                "WHERE project = {project:String} AND trace_id IN {traces:Array(String)} "
                f"AND kind = '{kind}' AND (span_id IN {{parents:Array(String)}} "
                f"OR parent_span_id IN {{ids:Array(String)}} OR ({condition}))",
                parameters={
                    "project": project,
                    "traces": sorted({s.trace_id for s in mine}),
                    "parents": sorted({s.parent_span_id for s in mine if s.parent_span_id}),
                    "ids": sorted({s.span_id for s in mine}),
                    **params(mine),
                },
            )
            for trace_id, *fields in result.result_rows:
                found.setdefault((project, trace_id), []).append(make(*fields))
        return found

    # -- content ------------------------------------------------------------------------------

    def _write_content(self, items: list[tuple[str, Any]]) -> tuple[int, int]:
        if self._epoch != _content_epoch:
            self._epoch = _content_epoch
            self._seen_young, self._seen_old = set(), set()
        young, old = self._seen_young, self._seen_old
        rows = []
        fresh: set[tuple[str, bytes]] = set()
        for project, item in items:
            key = (project, item.hash)
            if key in young or key in old or key in fresh:
                continue
            fresh.add(key)
            rows.append([project, item.hash, item.kind, item.body])
        if rows:
            self._client.insert("content", rows, column_names=("project", "hash", "kind", "body"))
        # Remembered only once written: a failed insert must not hide content from a retry.
        young |= fresh
        if len(young) > CONTENT_CACHE_SIZE:
            self._seen_old, self._seen_young = young, set()
        return len(rows), sum(len(r[3]) for r in rows)


def stored_keys(client: Any, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Those of these ``(project, trace_id, span_id)`` span keys that are stored."""
    by_project: dict[str, tuple[set[str], set[str]]] = {}
    for project, trace_id, span_id in keys:
        traces, ids = by_project.setdefault(project, (set(), set()))
        traces.add(trace_id)
        ids.add(span_id)
    found: set[tuple[str, str, str]] = set()
    for project, (traces, ids) in by_project.items():
        result = client.query(
            "SELECT trace_id, span_id FROM spans WHERE project = {project:String} "
            "AND trace_id IN {traces:Array(String)} AND span_id IN {ids:Array(String)}",
            parameters={"project": project, "traces": sorted(traces), "ids": sorted(ids)},
        )
        found.update((project, t, i) for t, i in result.result_rows)
    return found


def _mark_nested_tools(fresh: list[Span], earlier: dict[tuple[str, str], list[ToolSpan]]) -> None:
    """Spans of one tool call (see :func:`agentreel.core.calls.same_tool_call`) count
    once in run totals: the first stored, or the first in this batch."""
    for span in fresh:
        if span.kind != "tool":
            continue
        call = ToolSpan(span.span_id, span.parent_span_id, span.tool_name, span.tool_call_id)
        others = earlier.setdefault((span.project, span.trace_id), [])
        span.counted = not any(same_tool_call(call, other) for other in others)
        others.append(call)


def _mark_nested_calls(fresh: list[Span], earlier: dict[tuple[str, str], list[CallSpan]]) -> None:
    """Spans of one LLM call (see :mod:`agentreel.core.calls`) count once: a span
    counts unless it is the same call as an earlier one, stored or earlier in this batch."""
    for span in fresh:
        if span.kind != "llm":
            continue
        call = CallSpan(
            span.span_id,
            span.parent_span_id,
            span.response_id,
            span.scope,
            span.start_ns,
            span.end_ns,
            span.input_tokens,
            span.output_tokens,
        )
        others = earlier.setdefault((span.project, span.trace_id), [])
        span.counted = not any(same_call(call, other) for other in others)
        others.append(call)


def _values(column: columns.Column) -> Callable[[list[Span], int], list[Any]]:
    """How the writer gets ``column``'s values for a batch of spans written at ``now_ms``."""
    source = column.source
    if isinstance(source, str):
        get = attrgetter(source)
        return lambda spans, _: list(map(get, spans))
    if source is not None:
        return lambda spans, _: list(map(source, spans))
    if column.name != columns.INGESTED_AT:
        raise ValueError(f"spans.{column.name} has no source and no default")
    return lambda spans, now_ms: [now_ms] * len(spans)


_VALUES = tuple(_values(c) for c in columns.INSERTED)


def _span_columns(spans: list[Span], now_ms: int) -> list[list[Any]]:
    return [values(spans, now_ms) for values in _VALUES]
