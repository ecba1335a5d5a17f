"""Exact totals with several writers on one store (storage/exact.py), as several collectors
in front of one ClickHouse would be: the same batches delivered to both, in racing orders,
and every arrival order of a three-span call, leave the run and rollup tables at the totals
computed by hand from the test's spans; so does a crash between the spans insert and the
derived inserts.

Each test has a database of its own in the session's chDB store and a client per writer.
Races are forced, not hoped for: a barrier after the duplicate check makes both writers
read the store before either inserts (the "same instant" of two collectors).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import clickhouse_connect
import pytest

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.core.model import Span
from agentreel.storage import crashpoints, rederive, schema
from agentreel.storage import writer as writer_module
from agentreel.storage.writer import Writer

from support.otlpbuild import new_span_id, new_trace_id, span, traces

SECOND = 1_000_000_000
START = 1_780_000_000 * SECOND  # 2026-05-28, one day for every span
PROJECT = "p"


@pytest.fixture
def clients(store: Any) -> Iterator[Callable[[], Any]]:
    """Clients of a new, migrated database in the session's store: one per writer."""
    name = f"exact_{uuid.uuid4().hex[:10]}"
    store.command(f"CREATE DATABASE {name}")
    made: list[Any] = []

    def client() -> Any:
        made.append(clickhouse_connect.get_client(dsn=f"chdb://{store.path}", database=name))
        return made[-1]

    schema.migrate(client())
    try:
        yield client
    finally:
        for c in made:
            c.close()
        store.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _llm(model: str, tokens: tuple[int, int], **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens[0],
        "gen_ai.usage.output_tokens": tokens[1],
        **extra,
    }


def _normalized(otlp: list[Any]) -> list[Span]:
    """Spans as the collector hands them to the writer (decoded anew each time)."""
    body = traces(otlp, service="svc").SerializeToString()
    return normalize_spans(decode_traces_proto(body), PROJECT).spans


# -- the hand-computed truth ---------------------------------------------------------------


def _run(client: Any, trace_id: str) -> tuple[int, ...]:
    rows = client.query(
        "SELECT sum(spans), sum(llm_calls), sum(tool_calls), sum(errors), sum(input_tokens), "
        "sum(output_tokens) FROM runs WHERE trace_id = {t:String}",
        parameters={"t": trace_id},
    ).result_rows
    return tuple(int(v) for v in rows[0])


def _daily(client: Any, table: str, key: str, column: str) -> tuple[int, int]:
    rows = client.query(
        f"SELECT sum(calls), sum(input_tokens) FROM {table} WHERE {column} = {{k:String}}",
        parameters={"k": key},
    ).result_rows
    return int(rows[0][0]), int(rows[0][1])


def _facet_spans(client: Any, field: str, value: str) -> int:
    rows = client.query(
        "SELECT sum(spans) FROM facet_values WHERE field = {f:String} AND value = {v:String}",
        parameters={"f": field, "v": value},
    ).result_rows
    return int(rows[0][0])


# -- every arrival order of a three-span call ----------------------------------------------


def _three_span_call(model: str) -> tuple[str, list[Any]]:
    """One LLM call traced three times, each span under the previous one: a framework's span
    A, an instrumentor's B, the SDK's C, all reporting 100 in / 20 out. A~B and B~C (parent
    and child), but A and C share nothing: only B ties them into one call."""
    trace = new_trace_id()
    a, b, c = new_span_id(), new_span_id(), new_span_id()
    tokens = (100, 20)
    return trace.hex(), [
        span(trace, a, "framework", _llm(model, tokens), start_ns=START, duration_ns=9 * SECOND),
        span(trace, b, "chat", _llm(model, tokens), parent=a, start_ns=START + SECOND),
        span(trace, c, "sdk", _llm(model, tokens), parent=b, start_ns=START + 2 * SECOND),
    ]


def _three_span_tool_call(name: str) -> tuple[str, list[Any]]:
    """One tool call traced three times, nested: two spans without the call id (an agent
    framework's, an instrumentor's) over one with it. A~B (nested, same name, no ids), B~C
    (nested, only C has an id); A and C are not nested."""
    trace = new_trace_id()
    a, b, c = new_span_id(), new_span_id(), new_span_id()
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    return trace.hex(), [
        span(trace, a, name, tool, start_ns=START, duration_ns=9 * SECOND),
        span(trace, b, name, tool, parent=a, start_ns=START + SECOND),
        span(trace, c, name, tool | {"gen_ai.tool.call.id": "call-1"}, parent=b,
             start_ns=START + 2 * SECOND),
    ]  # fmt: skip


#: How the three spans (in one arrival order) come in batches, and which writer takes each.
_SPLITS: list[tuple[list[list[int]], list[int]]] = [
    ([[0], [1], [2]], [0, 0, 0]),
    ([[0], [1], [2]], [0, 1, 0]),
    ([[0], [1], [2]], [1, 0, 1]),
    ([[0, 1], [2]], [0, 1]),
    ([[0], [1, 2]], [1, 0]),
    ([[0, 1, 2]], [0]),
]


def test_every_arrival_order_of_a_three_span_call_counts_one_call(clients: Any) -> None:
    writers = [Writer(clients()), Writer(clients())]
    reader = clients()
    cases = []
    for n, (order, (split, which)) in enumerate(
        itertools.product(itertools.permutations(range(3)), _SPLITS)
    ):
        model = f"m{n}"
        trace_id, otlp = _three_span_call(model)
        arrived = [otlp[i] for i in order]
        for batch, w in zip(split, which, strict=True):
            writers[w].write(_normalized([arrived[i] for i in batch]), [])
        cases.append((order, split, which, model, trace_id))
    for w in writers:
        w.reconcile()
    for order, split, which, model, trace_id in cases:
        where = f"order {order}, batches {split}, writers {which}"
        # 3 spans, 1 call of 100 in / 20 out, no tools, no errors.
        assert _run(reader, trace_id) == (3, 1, 0, 0, 100, 20), where
        assert _daily(reader, "step_daily", model, "key") == (1, 100), where
        assert _daily(reader, "user_daily", model, "model") == (1, 100), where
        assert _facet_spans(reader, "model", model) == 3, where
        counted = reader.query(
            "SELECT countIf(counted) FROM spans FINAL WHERE trace_id = {t:String}",
            parameters={"t": trace_id},
        ).result_rows[0][0]
        assert counted == 1, where


def test_every_arrival_order_of_a_three_span_tool_call_counts_one_tool_call(clients: Any) -> None:
    writers = [Writer(clients()), Writer(clients())]
    reader = clients()
    cases = []
    for n, order in enumerate(itertools.permutations(range(3))):
        name = f"tool{n}"
        trace_id, otlp = _three_span_tool_call(name)
        for k, i in enumerate(order):  # one span a batch, the writers taking turns
            writers[k % 2].write(_normalized([otlp[i]]), [])
        cases.append((order, name, trace_id))
    for w in writers:
        w.reconcile()
    for order, name, trace_id in cases:
        # 3 spans, 1 tool call, no LLM calls.
        assert _run(reader, trace_id) == (3, 0, 1, 0, 0, 0), order
        assert _daily(reader, "step_daily", name, "key") == (1, 0), order


def test_the_late_middle_span_is_what_a_single_writer_got_wrong(
    clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault the reconcile repairs is real: before it, A then C then B counts two."""
    monkeypatch.setattr(writer_module, "RECONCILE_SECONDS", float("inf"))  # not on its own
    writer, reader = Writer(clients()), clients()
    trace_id, (a, b, c) = _three_span_call("late-middle")
    for one in (a, c, b):
        writer.write(_normalized([one]), [])
    assert _run(reader, trace_id)[1] == 2
    done = writer.reconcile()
    assert done.spans_reflagged == 1 and done.runs_rederived == 1
    assert _run(reader, trace_id) == (3, 1, 0, 0, 100, 20)


# -- two writers receiving the same batches ------------------------------------------------


def _workload() -> tuple[list[list[Any]], dict[str, tuple[int, ...]]]:
    """Batches of two runs, one batch delivered twice, and each run's totals by hand:
    (spans, LLM calls, tool calls, errors, input tokens, output tokens)."""
    t1, t2 = new_trace_id(), new_trace_id()
    r1, r2, instrumentor, sdk = new_span_id(), new_span_id(), new_span_id(), new_span_id()
    root = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch"}
    nested_pair = [  # one call: the instrumentor's span with the SDK's under it
        span(t1, instrumentor, "chat", _llm("gpt-4o", (50, 10)), parent=r1, start_ns=START + 1),
        span(t1, sdk, "sdk", _llm("gpt-4o", (50, 10)), parent=instrumentor, start_ns=START + 2),
    ]
    batches = [
        [nested_pair[1], span(t1, new_span_id(), "fetch", tool, parent=r1, status=2,
                              start_ns=START + 3)],
        [nested_pair[0], span(t1, r1, "planner", root, start_ns=START, duration_ns=SECOND)],
        [span(t2, r2, "planner", root, start_ns=START, duration_ns=SECOND),
         span(t2, new_span_id(), "chat", _llm("gpt-4o", (30, 5), **{"gen_ai.response.id": "x1"}),
              parent=r2, start_ns=START + 1),
         span(t2, new_span_id(), "chat", _llm("gpt-4o", (70, 15), **{"gen_ai.response.id": "x2"}),
              parent=r2, start_ns=START + 2)],
        [nested_pair[1]],  # the SDK span delivered again
    ]  # fmt: skip
    totals = {t1.hex(): (4, 1, 1, 1, 50, 10), t2.hex(): (3, 2, 0, 0, 100, 20)}
    return batches, totals


def _assert_exact(client: Any, totals: dict[str, tuple[int, ...]]) -> None:
    for trace_id, expected in totals.items():
        assert _run(client, trace_id) == expected, trace_id
    # Across both runs: 3 LLM calls of 150 input tokens, 1 tool call; 4 LLM spans of gpt-4o.
    assert _daily(client, "step_daily", "gpt-4o", "key") == (3, 150)
    assert _daily(client, "step_daily", "fetch", "key") == (1, 0)
    assert _daily(client, "user_daily", "gpt-4o", "model") == (3, 150)
    assert _facet_spans(client, "model", "gpt-4o") == 4
    assert _facet_spans(client, "service", "svc") == 7


def _race_after_the_duplicate_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both writers read "not stored" before either inserts: each waits for the other
    after its duplicate check (the fault two collectors meet at the same instant)."""
    barrier = threading.Barrier(2, timeout=60)
    real = writer_module.stored_keys

    def stored_keys(client: Any, keys: Any) -> Any:
        found = real(client, keys)
        barrier.wait()
        return found

    monkeypatch.setattr(writer_module, "stored_keys", stored_keys)


def _in_threads(jobs: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


@pytest.mark.parametrize("orders", ["same", "reversed"])
def test_two_writers_racing_on_the_same_batches_count_each_span_once(
    clients: Any, orders: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches, totals = _workload()
    # Reconciled below, not on its own mid-race: the double count is asserted first.
    monkeypatch.setattr(writer_module, "RECONCILE_SECONDS", float("inf"))
    writers, reader = [Writer(clients()), Writer(clients())], clients()
    _race_after_the_duplicate_check(monkeypatch)
    second = batches if orders == "same" else batches[::-1]

    def deliver(w: Writer, sequence: list[list[Any]]) -> Callable[[], None]:
        return lambda: [w.write(_normalized(b), []) for b in sequence] and None

    _in_threads([deliver(writers[0], batches), deliver(writers[1], second)])
    assert _run(reader, next(iter(totals)))[0] > totals[next(iter(totals))][0]  # both counted
    for w in writers:
        w.reconcile()
    _assert_exact(reader, totals)


def test_interleaved_writers_equal_one_writer_receiving_each_batch_once(clients: Any) -> None:
    batches, totals = _workload()
    a, b, reader = Writer(clients()), Writer(clients()), clients()
    # Deterministic interleavings: b follows a batch by batch, then a gets everything again.
    for batch in batches:
        a.write(_normalized(batch), [])
        b.write(_normalized(batch), [])
    for batch in reversed(batches):
        a.write(_normalized(batch), [])
    a.reconcile()
    b.reconcile()
    _assert_exact(reader, totals)


# -- a crash between the inserts ----------------------------------------------------------


def test_a_crash_between_the_spans_and_the_derived_inserts_leaves_totals_exact(
    clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One collector dies right after inserting a batch's spans while the other collector
    also receives it; the dead one restarts (recovery from its spool, then the replay)."""
    batches, totals = _workload()
    other, reader = Writer(clients()), clients()
    crashed = Writer(clients())
    crashed.write(_normalized(batches[0]), [])

    def reached(point: str) -> None:
        if point == "spans":
            raise SystemExit("crash after the spans insert")

    with monkeypatch.context() as patch:
        patch.setattr(crashpoints, "reached", reached)
        with pytest.raises(SystemExit):
            crashed.write(_normalized(batches[1]), [])
    for batch in batches:
        other.write(_normalized(batch), [])
    # The restart: recovery of the spool's unfinished records, then their replay.
    unfinished = batches[1:]
    rederive.recover(reader, [_batch(b) for b in unfinished])
    restarted = Writer(clients())
    for batch in unfinished:
        restarted.write(_normalized(batch), [])
    restarted.reconcile()
    other.reconcile()
    _assert_exact(reader, totals)


def _batch(otlp: list[Any]) -> Any:
    body = traces(otlp, service="svc").SerializeToString()
    return normalize_spans(decode_traces_proto(body), PROJECT)
