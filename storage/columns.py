"""The ``spans`` table column by column: the one place a span column is named.

Each :class:`Column` gives the column's name, ClickHouse type and codec, where its value
comes from in the normalized model (:class:`~agentreel.core.model.Span`), how the run
export document writes it (a type of :mod:`agentreel.replay.rundoc`, or not at all) and
which field of the REST API's span it feeds (``server/routes/runs.py``, or none). The rest
derives from :data:`COLUMNS`, in its order:

* the ``CREATE TABLE spans`` of migration 1 (:data:`DEFINITIONS`), and the ``ALTER`` that
  adds a later column to an older store (:func:`add_column`);
* the writer's insert: :data:`INSERTED`, each column's values taken from its ``source``;
* the read of a trace's spans (``queries.trace_spans``): :data:`READ`, each by its
  :attr:`Column.read` expression, rows keyed by column name;
* the span fields of the export document (the ``doc`` types of :data:`READ`) and the model
  field each is imported into;
* the API's span object: the ``api`` fields in the order they first appear.

Adding a column is a line here, after the column it follows, and a migration that runs
``add_column(name)``: a fresh store gets the column from the ``CREATE TABLE`` (the
migration's ``ADD COLUMN IF NOT EXISTS`` then does nothing), a store made before gets it
from the migration. A column the API shows as stored needs a ``doc`` type too (the API
reads what the export carries); one shown otherwise needs its renderer in ``runs.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentreel.core.model import Span

# ClickHouse types of the columns.
TEXT = "String"
#: Text with few distinct values: what dashboards filter and group on.
TAG = "LowCardinality(String)"
TIME = "DateTime64(9, 'UTC')"
COUNT = "UInt64"
BYTE = "UInt8"
USD = "Float64"
#: A content hash (16 zero bytes: no content).
REF = "FixedString(16)"
REFS = "Array(FixedString(16))"
TAGS = "Array(LowCardinality(String))"
TEXTS = "Array(String)"
REF_MAP = "Map(LowCardinality(String), FixedString(16))"
TEXT_MAP = "Map(LowCardinality(String), String)"

# Codecs: times of one trace are close (sorted by trace), counts small, free text compresses.
DELTA = "Delta, ZSTD(1)"
T64 = "T64, ZSTD(1)"
ZSTD1 = "ZSTD(1)"
ZSTD3 = "ZSTD(3)"

#: The span's deployment environment, computed by the database from its resource (the rule
#: of ``stepdaily.environment_of``).
ENVIRONMENT_DEFAULT = (
    "if(resource['deployment.environment.name'] != '', "
    "resource['deployment.environment.name'], resource['deployment.environment'])"
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of ``spans``."""

    name: str
    type: str
    codec: str = ""
    #: Where the value comes from: the :class:`Span` field it holds, or a function of the
    #: span. ``None``: filled when written, by the database (``default``) or, for
    #: ``ingested_at``, by the writer's clock.
    source: str | Callable[[Span], Any] | None = None
    #: How the export document writes the value (``""``: not exported).
    doc: str = ""
    #: The field of the API's span the column feeds (``""``: not shown).
    api: str = ""
    #: A DEFAULT expression: the database computes the value; the writer does not send it.
    default: str = ""

    @property
    def field(self) -> str:
        """The :class:`Span` field the column holds (``""`` when it is derived)."""
        return self.source if isinstance(self.source, str) else ""

    @property
    def definition(self) -> str:
        """The column as ``CREATE TABLE`` and ``ADD COLUMN`` declare it."""
        default = f" DEFAULT {self.default}" if self.default else ""
        codec = f" CODEC({self.codec})" if self.codec else ""
        return f"{self.name} {self.type}{default}{codec}"

    @property
    def read(self) -> str:
        """The select expression that reads the value back: tags as plain text, times as
        integer nanoseconds."""
        if self.type == TAG:
            return f"toString({self.name})"
        if self.type == TIME:
            return f"toUnixTimestamp64Nano({self.name})"
        return self.name


def _duration(span: Span) -> int:
    return max(0, span.end_ns - span.start_ns)


#: The column the writer fills with its clock.
INGESTED_AT = "ingested_at"

# One line per column, in table order (ruff format would undo the alignment).
# fmt: off
COLUMNS: tuple[Column, ...] = (
    #      name                     type      codec  source (Span)          doc       api
    Column("project",               TAG,      "",    "project"),
    Column("trace_id",              TEXT,     "",    "trace_id"),
    Column("span_id",               TEXT,     "",    "span_id",             "str",    "span_id"),
    Column("parent_span_id",        TEXT,     "",    "parent_span_id",      "str",    "parent_span_id"),
    Column("name",                  TAG,      "",    "name",                "str",    "name"),
    Column("kind",                  TAG,      "",    "kind",                "str",    "kind"),
    Column("otel_kind",             TAG,      "",    "otel_kind",           "str",    "otel_kind"),
    Column("start_time",            TIME,     DELTA, "start_ns",            "time",   "start_time"),
    Column("end_time",              TIME,     DELTA, "end_ns",              "time",   "end_time"),
    Column("duration_ns",           COUNT,    T64,   _duration,             "",       "duration_ms"),
    Column("status",                TAG,      "",    "status",              "str",    "status"),
    Column("error_type",            TAG,      "",    "error_type",          "str",    "error_type"),
    Column("error_message",         TEXT,     ZSTD3, "error_message",       "str",    "error_message"),
    Column("service",               TAG,      "",    "service",             "str",    "service"),
    Column("scope",                 TAG,      "",    "scope",               "str",    "scope"),
    Column("convention",            TAG,      "",    "convention",          "str",    "convention"),
    Column("operation",             TAG,      "",    "operation",           "str",    "operation"),
    Column("model",                 TAG,      "",    "model",               "str",    "model"),
    Column("request_model",         TAG,      "",    "request_model",       "str",    "request_model"),
    Column("provider",              TAG,      "",    "provider",            "str",    "provider"),
    Column("agent",                 TAG,      "",    "agent",               "str",    "agent"),
    Column("session",               TEXT,     ZSTD3, "session",             "str",    "session"),
    Column("user",                  TEXT,     ZSTD3, "user",                "str",    "user"),
    Column("environment",           TAG,      default=ENVIRONMENT_DEFAULT),  # migration 2
    Column("input_tokens",          COUNT,    T64,   "input_tokens",        "uint",   "usage"),
    Column("output_tokens",         COUNT,    T64,   "output_tokens",       "uint",   "usage"),
    Column("cache_read_tokens",     COUNT,    T64,   "cache_read_tokens",   "uint",   "usage"),
    Column("cache_write_tokens",    COUNT,    T64,   "cache_write_tokens",  "uint",   "usage"),
    Column("reasoning_tokens",      COUNT,    T64,   "reasoning_tokens",    "uint",   "usage"),
    Column("total_tokens",          COUNT,    T64,   "total_tokens",        "uint",   "usage"),
    Column("cost_usd",              USD,      ZSTD1, "cost_usd",            "float",  "cost_usd"),
    Column("cost_source",           TAG,      "",    "cost_source",         "str",    "cost_source"),
    Column("counted",               BYTE,     "",    "counted",             "bool",   "counted"),
    Column("response_id",           TEXT,     ZSTD3, "response_id",         "str"),
    Column("tool_name",             TAG,      "",    "tool_name",           "str",    "tool"),
    Column("tool_call_id",          TEXT,     ZSTD3, "tool_call_id",        "str",    "tool"),
    Column("finish_reasons",        TAGS,     "",    "finish_reasons",      "strs",   "finish_reasons"),
    Column("content_flags",         BYTE,     "",    "content_flags",       "uint8"),
    Column("system_ref",            REF,      "",    "system_ref",          "ref",    "content"),
    Column("input_refs",            REFS,     ZSTD3, "input_refs",          "refs",   "content"),
    Column("output_refs",           REFS,     ZSTD3, "output_refs",         "refs",   "content"),
    Column("output_finish_reasons", TAGS,     "",    "output_finish_reasons", "strs"),
    Column("tools_ref",             REF,      "",    "tools_ref",           "ref",    "content"),
    Column("tool_arguments_ref",    REF,      "",    "tool_arguments_ref",  "ref",    "tool"),
    Column("tool_result_ref",       REF,      "",    "tool_result_ref",     "ref",    "tool"),
    Column("attribute_refs",        REF_MAP,  "",    "attribute_refs",      "refmap", "attributes"),
    Column("attributes",            TEXT_MAP, ZSTD3, "attributes",          "strmap", "attributes"),
    Column("resource",              TEXT_MAP, ZSTD3, "resource",            "strmap", "resource"),
    Column("events",                TEXT,     ZSTD3, "events",              "str",    "events"),
    Column("warnings",              TEXTS,    ZSTD3, "warnings",            "strs",   "warnings"),
    Column(INGESTED_AT,             "DateTime64(3, 'UTC')", DELTA),
)
# fmt: on

BY_NAME = {c.name: c for c in COLUMNS}

#: The columns the writer sends, in this order (the database computes the others).
INSERTED = tuple(c for c in COLUMNS if not c.default)

#: The columns a read of a trace returns: every one the export document carries (the span
#: as stored, but for its project and trace id, which the reader knows, and what the store
#: derives: duration, environment, ingest time).
READ = tuple(c for c in COLUMNS if c.doc)

#: The token counts of a span, in the order the API shows them (its ``usage`` object).
USAGE = tuple(c.name for c in COLUMNS if c.api == "usage")

#: The column list of ``CREATE TABLE spans``.
DEFINITIONS = ",\n    ".join(c.definition for c in COLUMNS)


def add_column(name: str) -> str:
    """The statement that adds column ``name`` to a store made before it, in its place."""
    at = COLUMNS.index(BY_NAME[name])
    return (
        f"ALTER TABLE spans ADD COLUMN IF NOT EXISTS {COLUMNS[at].definition} "
        f"AFTER {COLUMNS[at - 1].name}"
    )
