"""Exact run totals when several writers (collectors) share one store.

A writer decides at insert time whether a span is new (:func:`.writer.stored_keys`) and
whether an LLM or tool span is the first of its call (``counted``), and the views add the
batch to ``runs`` and the rollups. Those decisions are per process and per arrival order,
so they are provisional: two collectors receiving one retried span at the same instant both
store and count it, and a call of three spans A~B~C (an SDK span, an instrumentor span and a
framework span) whose middle span B arrives last is counted twice, A and C being counted
before anything tied them together.

:func:`reconcile` makes them exact after the fact, for the runs a writer touched:

* **Calls are connected components.** The LLM spans of a trace are grouped by the
  transitive closure of :func:`agentreel.core.calls.same_call` (tool spans by
  :func:`~agentreel.core.calls.same_tool_call`), and exactly one span per group counts
  (:func:`_counted_one`): the one the writers counted when they counted exactly one, else a
  canonical one chosen from the spans alone, not from their arrival order. A stored span
  whose ``counted`` disagrees is written again with the right flag and a later
  ``ingested_at`` (``spans`` is a ``ReplacingMergeTree(ingested_at)``: the new row replaces
  the old one).
* **Totals come from distinct spans.** A run's ``runs`` figures are compared with the same
  figures computed from its spans read ``FINAL`` (one row per span however often it was
  inserted). A run that differs, or whose calls were re-flagged, is re-derived by
  :mod:`.rederive` (whose fills read the spans ``FINAL``): its ``runs``, escalation rows,
  facet values and whole days of ``step_daily``/``user_daily`` are deleted and computed
  again, which replaces rather than adds.

Checking costs two grouped reads of the touched runs' spans; runs found exact are not
written. A re-derivation racing another writer's insert into the same run can itself be
off, so a run is checked again after it is re-derived (:data:`ROUNDS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agentreel.core.calls import CallSpan, ToolSpan, same_call, same_tool_call

from . import rederive, stepdaily

#: Runs checked per round of queries (their ids go into IN lists).
RUNS_PER_QUERY = 2_000
#: Checks of a run after re-deriving it, before leaving it to the next reconcile.
ROUNDS = 3

#: The figures of a run compared between ``runs`` and its distinct spans.
_RUN_FIGURES = (
    "sum(spans), sum(llm_calls), sum(tool_calls), sum(errors), sum(input_tokens), "
    "sum(output_tokens), sum(total_tokens)"
)
_SPAN_FIGURES = (
    "count(), countIf(kind = 'llm' AND counted), countIf(kind = 'tool' AND counted), "
    "countIf(status = 'error'), sum(if(counted, input_tokens, 0)), "
    "sum(if(counted, output_tokens, 0)), sum(if(counted, total_tokens, 0))"
)
_IN_RUNS = "project = {p:String} AND trace_id IN {t:Array(String)}"


@dataclass
class Reconciled:
    """What a reconcile found and did."""

    runs_checked: int = 0
    spans_reflagged: int = 0
    runs_rederived: int = 0


@dataclass(frozen=True, slots=True)
class _Stored:
    """An LLM or tool span of a run as stored (its latest row)."""

    span_id: str
    kind: str
    parent_span_id: str
    response_id: str
    scope: str
    start_ns: int
    end_ns: int
    input_tokens: int
    output_tokens: int
    tool_name: str
    tool_call_id: str
    counted: bool

    def call(self) -> CallSpan:
        return CallSpan(
            self.span_id,
            self.parent_span_id,
            self.response_id,
            self.scope,
            self.start_ns,
            self.end_ns,
            self.input_tokens,
            self.output_tokens,
        )

    def tool(self) -> ToolSpan:
        return ToolSpan(self.span_id, self.parent_span_id, self.tool_name, self.tool_call_id)


def reconcile(client: Any, runs: Iterable[tuple[str, str]]) -> Reconciled:
    """Make the counted flags and derived rows of these ``(project, trace_id)`` runs exact."""
    done = Reconciled()
    for project, traces in stepdaily.by_project(set(runs)).items():
        for at in range(0, len(traces), RUNS_PER_QUERY):
            chunk = traces[at : at + RUNS_PER_QUERY]
            done.runs_checked += len(chunk)
            for _ in range(ROUNDS):
                chunk = _reconcile_chunk(client, project, chunk, done)
                if not chunk:
                    break
    return done


def _reconcile_chunk(client: Any, project: str, traces: list[str], done: Reconciled) -> list[str]:
    """Fix what is wrong in these runs; return the runs re-derived (to be checked again)."""
    params: dict[str, Any] = {"p": project, "t": traces}
    flips = counted_flips(_stored_steps(client, params))
    if flips:
        _reflag(client, project, flips)
        done.spans_reflagged += sum(len(ids) for ids in flips.values())
    wrong = set(flips) | _inexact(client, params)
    if not wrong:
        return []
    rederive._rederive(client, project, sorted(wrong), rederive.Rederived())
    done.runs_rederived += len(wrong)
    return sorted(wrong)


def _stored_steps(client: Any, params: dict[str, Any]) -> dict[str, list[_Stored]]:
    """The LLM and tool spans of these runs, one row per span (its latest), by trace."""
    rows = client.query(
        "SELECT trace_id, span_id, toString(kind), parent_span_id, response_id, "
        "toString(scope), toUnixTimestamp64Nano(start_time), toUnixTimestamp64Nano(end_time), "
        "input_tokens, output_tokens, toString(tool_name), tool_call_id, counted "
        f"FROM spans FINAL WHERE {_IN_RUNS} AND kind IN ('llm', 'tool')",
        parameters=params,
    ).result_rows
    found: dict[str, list[_Stored]] = {}
    for trace_id, sid, kind, parent, response, scope, start, end, i, o, tool, call, on in rows:
        stored = _Stored(sid, kind, parent, response, scope, start, end, i, o, tool, call, bool(on))
        found.setdefault(trace_id, []).append(stored)
    return found


def counted_flips(traces: dict[str, list[_Stored]]) -> dict[str, dict[str, bool]]:
    """Per trace, the spans whose ``counted`` must change, with the value it must take."""
    flips: dict[str, dict[str, bool]] = {}
    for trace_id, spans in traces.items():
        llm = [s for s in spans if s.kind == "llm"]
        tools = [s for s in spans if s.kind == "tool"]
        counted = {
            _counted_one(group, _canonical_llm if group[0].kind == "llm" else _canonical_tool)
            for group in (*_llm_groups(llm), *_tool_groups(tools))
        }
        changed = {
            s.span_id: s.span_id in counted for s in spans if s.counted != (s.span_id in counted)
        }
        if changed:
            flips[trace_id] = changed
    return flips


def _counted_one(group: list[_Stored], rank: Any) -> str:
    """The id of the span of a call that counts. A call with exactly one counted span keeps
    it (whichever a writer counted first: what a single writer always did); one with none or
    several gets the canonical one of those counted (or of all), which depends on the spans
    only, not on the order they arrived in."""
    counted = [s for s in group if s.counted]
    if len(counted) == 1:
        return counted[0].span_id
    return max(counted or group, key=rank).span_id


def _canonical_llm(span: _Stored) -> tuple[bool, int, str]:
    """The span that counts for a call: one that reports tokens, the innermost (latest to
    start: the SDK's span under an instrumentor's, usually also the first exported, which is
    the one a single writer counts), ties broken by id."""
    return (span.input_tokens + span.output_tokens > 0, span.start_ns, span.span_id)


def _canonical_tool(span: _Stored) -> tuple[bool, int, str]:
    """The span that counts for a tool call: one that knows the call id, the innermost."""
    return (bool(span.tool_call_id), span.start_ns, span.span_id)


class _Groups:
    """Union-find over a list's indexes."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def root(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self._parent[self.root(i)] = self.root(j)

    def groups(self, items: list[_Stored]) -> list[list[_Stored]]:
        out: dict[int, list[_Stored]] = {}
        for i, item in enumerate(items):
            out.setdefault(self.root(i), []).append(item)
        return list(out.values())


def _llm_groups(spans: list[_Stored]) -> list[list[_Stored]]:
    """LLM spans partitioned into calls: connected by :func:`same_call`, compared only
    within the buckets its rules can match in (parent and child, one response id, siblings
    with equal token counts), so a run of many calls is not compared pair by pair."""
    groups = _Groups(len(spans))
    index = {s.span_id: i for i, s in enumerate(spans)}
    buckets: dict[tuple[Any, ...], list[int]] = {}
    for i, s in enumerate(spans):
        if s.parent_span_id in index:
            groups.join(i, index[s.parent_span_id])
        if s.response_id:
            buckets.setdefault(("response", s.response_id), []).append(i)
        if s.input_tokens > 0:
            key = ("siblings", s.parent_span_id, s.input_tokens, s.output_tokens)
            buckets.setdefault(key, []).append(i)
    calls = [s.call() for s in spans]
    for members in buckets.values():
        for n, i in enumerate(members):
            for j in members[:n]:
                if same_call(calls[i], calls[j]):
                    groups.join(i, j)
    return groups.groups(spans)


def _tool_groups(spans: list[_Stored]) -> list[list[_Stored]]:
    """Tool spans partitioned into tool calls, connected by :func:`same_tool_call`."""
    groups = _Groups(len(spans))
    index = {s.span_id: i for i, s in enumerate(spans)}
    by_id: dict[str, int] = {}
    tools = [s.tool() for s in spans]
    for i, s in enumerate(spans):
        parent = index.get(s.parent_span_id)
        if parent is not None and same_tool_call(tools[i], tools[parent]):
            groups.join(i, parent)
        if s.tool_call_id:
            if s.tool_call_id in by_id:
                groups.join(i, by_id[s.tool_call_id])
            else:
                by_id[s.tool_call_id] = i
    return groups.groups(spans)


def _reflag(client: Any, project: str, flips: dict[str, dict[str, bool]]) -> None:
    """Write these spans again with their right ``counted`` flag; the later ``ingested_at``
    makes the new row the one ``FINAL`` and merges keep."""
    ids = sorted(i for spans in flips.values() for i in spans)
    on = sorted(i for spans in flips.values() for i, value in spans.items() if value)
    client.command(
        "INSERT INTO spans SELECT * REPLACE (toUInt8(span_id IN {on:Array(String)}) AS counted, "
        "greatest(now64(3), ingested_at + toIntervalMillisecond(1)) AS ingested_at) "
        f"FROM spans FINAL WHERE {_IN_RUNS} AND span_id IN {{ids:Array(String)}}",
        parameters={"p": project, "t": sorted(flips), "ids": ids, "on": on},
    )


def _inexact(client: Any, params: dict[str, Any]) -> set[str]:
    """The runs whose ``runs`` figures differ from those of their distinct spans (a span
    stored by two writers, a derived insert lost to a crash)."""
    truth = client.query(
        f"SELECT trace_id, {_SPAN_FIGURES} FROM spans FINAL WHERE {_IN_RUNS} GROUP BY trace_id",
        parameters=params,
    ).result_rows
    table = client.query(
        f"SELECT trace_id, {_RUN_FIGURES} FROM runs WHERE {_IN_RUNS} GROUP BY trace_id",
        parameters=params,
    ).result_rows
    have = {row[0]: tuple(int(v) for v in row[1:]) for row in table}
    return {row[0] for row in truth if have.get(row[0]) != tuple(int(v) for v in row[1:])}
