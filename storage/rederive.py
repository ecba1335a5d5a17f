"""Derived data rebuilt from the spans: what makes the run and rollup tables crash-consistent.

One write inserts the spans (the views fill ``runs``, ``facet_values`` and
``escalation_rows`` in the same insert), then the writer's own rows (``step_daily``,
``user_daily``, scores). A ``kill -9`` between those inserts leaves spans stored without
their derived rows, and the spool's replay at the next start cannot add them by writing the
batch again: its spans are stored, so the duplicate check skips them (it must, or a retried
span would count twice).

So the derived rows are not patched but re-derived: for a set of runs, every derived row
they touch is deleted and computed again from the spans stored, which is right whatever
part of the write had happened (nothing, some inserts, all of them). The scope is exact
for the tables keyed by run (``runs``, ``escalation_rows``); ``facet_values`` rows are keyed
by value, so the values these runs use are recomputed from all the project's spans, and the
daily tables by day, so the days these runs' spans fall on are recomputed whole.

* :func:`recover` — at start, before the spool's records are written again: the runs those
  records touch (some of their spans may be stored without derived rows), and the scores of
  their spans that are stored. Those records stay in the spool until written, so a crash
  during recovery or during the replay simply recovers again at the next start.
* :func:`rebuild` — every derived table from all spans (``agentreel repair``), for stores
  damaged before recovery existed, or after a reprice interrupted between its steps.

Every fill reads the spans ``FINAL``: one row per span however many times it was inserted
(two collectors storing one retried span), so what is re-derived is exact.
:mod:`.exact` re-derives the runs it finds inexact the same way.

Deletes are lightweight (``DELETE FROM``), synchronous, and only follow a crash or a run
:mod:`.exact` found inexact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from agentreel.core.model import Batch

from . import crashpoints, rollups, runtable, stepdaily
from .scores import insert as insert_scores
from .writer import stored_keys

#: Runs re-derived per round of queries (their ids go into IN lists).
RUNS_PER_QUERY = 5_000

#: The facet rows' select over distinct spans: a span two writers both inserted (before
#: the merge folds it) counts once, as every fill here reads ``spans FINAL``.
_FACETS_DISTINCT = rollups.FACET_SELECT.replace("\nFROM spans\n", "\nFROM spans FINAL\n")

#: Derived tables keyed by run, and by day.
_BY_RUN = ("runs", "escalation_rows")
_DAILY = ("step_daily", "user_daily")
#: Every table :func:`rebuild` empties and fills.
TABLES = (*_BY_RUN, "facet_values", *_DAILY)

Progress = Callable[[str], None]


@dataclass
class Rederived:
    """What a recovery or a rebuild did."""

    runs: int = 0
    days: int = 0
    spans: int = 0
    scores: int = 0


def recover(client: Any, batches: Iterable[Batch]) -> Rederived:
    """Re-derive what the runs of these batches (the spool's unfinished records) have stored,
    and store again the scores of their spans that are stored (scores have stable ids, so a
    score written before the crash is replaced by itself)."""
    runs: set[tuple[str, str]] = set()
    scored: dict[tuple[str, str, str], list[list[Any]]] = {}
    for batch in batches:
        for span in batch.spans:
            runs.add((span.project, span.trace_id))
            if span.scores:
                scored[span.key] = [score.row(span.project) for score in span.scores]
    done = Rederived()
    for project, traces in stepdaily.by_project(runs).items():
        _rederive(client, project, traces, done)
    rows = [row for key in stored_keys(client, scored) for row in scored[key]]
    insert_scores(client, rows)
    done.scores = len(rows)
    return done


def rebuild(client: Any, progress: Progress | None = None) -> Rederived:
    """Empty every derived table and fill it again from all spans, a month of spans at a
    time (rows of a run or a value that spans months merge as they do at ingestion)."""
    say = progress or (lambda _: None)
    months = client.query(
        "SELECT toYYYYMM(start_time) AS m, count(), uniqExact(project, trace_id) FROM spans "
        "GROUP BY m ORDER BY m"
    ).result_rows
    for table in TABLES:
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
    done = Rederived()
    for month, spans, runs in months:
        in_month = "toYYYYMM(start_time) = {m:UInt32}"
        for fill in (_fill_runs, _fill_facets, _fill_daily):
            fill(client, in_month, {"m": month})
        done.spans += int(spans)
        say(f"{month // 100}-{month % 100:02d}: {int(spans):,} spans of {int(runs):,} runs")
    done.runs, done.days = (
        int(n)
        for n in client.query(
            "SELECT (SELECT uniqExact(project, trace_id) FROM spans), "
            "(SELECT uniqExact(day) FROM step_daily)"
        ).result_rows[0]
    )
    return done


#: Runs of a project (``{p}``) by id (``{t}``); its days (``{days}``) and facet pairs
#: (``{facets}``), with ``%s`` for the column or expression compared.
_IN_RUNS = "project = {p:String} AND trace_id IN {t:Array(String)}"
_IN_DAYS = "project = {p:String} AND %s IN {days:Array(Date32)}"
_IN_FACETS = "project = {p:String} AND %s IN {facets:Array(Tuple(String, String))}"


def _rederive(client: Any, project: str, traces: list[str], done: Rederived) -> None:
    """Delete and fill again every derived row these runs of ``project`` contribute to:
    per run a chunk at a time, then the facet values and days of them all at once."""
    days: set[Any] = set()
    facets: set[tuple[str, str]] = set()
    for at in range(0, len(traces), RUNS_PER_QUERY):
        params: dict[str, Any] = {"p": project, "t": traces[at : at + RUNS_PER_QUERY]}
        days |= {
            row[0]
            for row in client.query(
                f"SELECT DISTINCT toDate(start_time) FROM spans WHERE {_IN_RUNS}",
                parameters=params,
            ).result_rows
        }
        facets |= {
            (row[0], row[1])
            for row in client.query(
                f"SELECT DISTINCT facet.1, facet.2 FROM spans "
                f"ARRAY JOIN {rollups.FACET_PAIRS} AS facet WHERE {_IN_RUNS} AND facet.2 != ''",
                parameters=params,
            ).result_rows
        }
        for table in _BY_RUN:
            client.command(f"DELETE FROM {table} WHERE {_IN_RUNS}", parameters=params)
        crashpoints.reached("rederive")
        _fill_runs(client, _IN_RUNS, params)
    params = {"p": project, "days": sorted(days), "facets": sorted(facets)}
    if facets:
        where = _IN_FACETS % "(field, value)"
        client.command(f"DELETE FROM facet_values WHERE {where}", parameters=params)
        _fill_facets(client, _IN_FACETS % "(facet.1, facet.2)", params)
    if days:
        for table in _DAILY:
            client.command(f"DELETE FROM {table} WHERE {_IN_DAYS % 'day'}", parameters=params)
        _fill_daily(client, _IN_DAYS % "toDate(start_time)", params)
    done.runs += len(traces)
    done.days += len(days)


def _fill_runs(client: Any, spans: str, params: dict[str, Any]) -> None:
    """Insert the ``runs`` and ``escalation_rows`` rows of the spans meeting ``spans`` (a
    condition on ``spans`` columns)."""
    names = client.query(
        f"SELECT * FROM ({runtable.RUN_SELECT} WHERE 0 GROUP BY project, trace_id) LIMIT 0"
    ).column_names
    # The select names its results as the columns it reads (start_time is min(start_time)):
    # the condition applies to the spans beneath it.
    select = runtable.RUN_SELECT.replace(
        "\nFROM spans\n", f"\nFROM (SELECT * FROM spans FINAL WHERE {spans}) AS spans\n"
    )
    client.command(
        f"INSERT INTO runs ({', '.join(names)}) {select} GROUP BY project, trace_id",
        parameters=params,
    )
    client.command(
        f"INSERT INTO escalation_rows {rollups.ESCALATION_SELECT} AND {spans}", parameters=params
    )


def _fill_facets(client: Any, spans: str, params: dict[str, Any]) -> None:
    """Insert the ``facet_values`` rows of the spans meeting ``spans`` (a condition on
    ``spans`` columns and the ``facet`` pair)."""
    client.command(
        f"INSERT INTO facet_values {_FACETS_DISTINCT} AND ({spans}) GROUP BY project, field, value",
        parameters=params,
    )


def _fill_daily(client: Any, spans: str, params: dict[str, Any]) -> None:
    """Insert the ``step_daily`` and ``user_daily`` rows of the spans meeting ``spans``."""
    for fill in (stepdaily.step_daily_fill, stepdaily.user_daily_fill):
        client.command(fill(spans), parameters=params)
