"""The column table of ``spans`` (storage/columns.py) agrees with the store and the model."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentreel.core.model import Span
from agentreel.storage import columns
from agentreel.storage.writer import SPAN_COLUMNS


def test_the_store_has_the_columns_of_the_table_in_its_order(store: Any) -> None:
    rows = store.query(
        "SELECT name, type, default_expression != '', compression_codec != '' "
        "FROM system.columns WHERE database = currentDatabase() AND table = 'spans' "
        "ORDER BY position"
    ).result_rows
    expected = [(c.name, c.type, bool(c.default), bool(c.codec)) for c in columns.COLUMNS]
    assert [tuple(row) for row in rows] == expected


def test_every_column_comes_from_the_model_or_is_derived_when_written() -> None:
    fields = {f.name for f in dataclasses.fields(Span)}
    for column in columns.COLUMNS:
        assert column.field in fields | {""}, column.name
        assert (column.source is None) == (bool(column.default) or column.name == "ingested_at")
    # A span read back (and exported) can be rebuilt: each value has its model field.
    assert all(c.field for c in columns.READ)
    # The database computes the environment from the resource; the writer stamps its time.
    assert "environment" not in SPAN_COLUMNS and SPAN_COLUMNS[-1] == "ingested_at"


def test_a_later_column_is_added_in_its_place() -> None:
    assert columns.add_column("environment") == (
        "ALTER TABLE spans ADD COLUMN IF NOT EXISTS environment LowCardinality(String) "
        f"DEFAULT {columns.ENVIRONMENT_DEFAULT} AFTER user"
    )
