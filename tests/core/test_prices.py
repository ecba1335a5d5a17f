"""The price table: name matching, dates, provider token semantics, overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentreel.core.prices import (
    PriceError,
    PriceTable,
    Usage,
    entries_data,
    load_prices,
    parse_entries,
)

TABLE = load_prices()


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai/gpt-4o", "gpt-4o"),
        ("openai:gpt-4o", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
    ],
)
def test_names_match_through_prefixes_and_suffixes(name: str, listed: str) -> None:
    price = TABLE.lookup(name)
    assert price is not None and price.model == listed


@pytest.mark.parametrize(
    "name", ["gpt-4o-audio-preview", "gpt-4o-mini-tts", "claude-sonnet", "ft:gpt-4o:acme::x", ""]
)
def test_other_models_stay_unknown(name: str) -> None:
    assert TABLE.lookup(name) is None
    assert TABLE.cost(name, "openai", Usage(input_tokens=1000)) is None


def test_a_name_never_prices_a_longer_one() -> None:
    mini, full = TABLE.lookup("gpt-4o-mini"), TABLE.lookup("gpt-4o")
    assert mini is not None and full is not None
    assert (mini.model, full.model) == ("gpt-4o-mini", "gpt-4o")
    assert mini.input != full.input


def test_effective_dates_choose_the_price_of_the_day() -> None:
    before = TABLE.lookup("o3", at=datetime(2025, 5, 1, tzinfo=UTC))
    after = TABLE.lookup("o3", at=datetime(2025, 7, 1, tzinfo=UTC))
    assert before is not None and after is not None
    assert (before.input, after.input) == (10.0, 2.0)
    # Before any listed date, the launch price applies rather than none at all.
    early = TABLE.lookup("o3", at=datetime(2024, 1, 1))
    assert early is not None and early.input == 10.0


def test_openai_input_includes_cached_and_output_includes_reasoning() -> None:
    usage = Usage(input_tokens=1000, output_tokens=400, cache_read_tokens=600, reasoning_tokens=100)
    # gpt-4o: input 2.50, cached 1.25, output 10.00 per 1M.
    expected = (400 * 2.50 + 600 * 1.25 + 400 * 10.00) / 1e6
    assert TABLE.cost("gpt-4o", "openai", usage, datetime(2025, 1, 1)) == pytest.approx(expected)


def test_anthropic_input_excludes_cache_reads_and_writes() -> None:
    usage = Usage(
        input_tokens=1000, output_tokens=200, cache_read_tokens=300, cache_write_tokens=50
    )
    # claude-sonnet-4: input 3, cache read 0.30, cache write 3.75, output 15 per 1M.
    expected = (1000 * 3 + 300 * 0.30 + 50 * 3.75 + 200 * 15) / 1e6
    assert TABLE.cost("claude-sonnet-4", "anthropic", usage) == pytest.approx(expected)
    # Bedrock serves the same API; the provider's name alone does not change the semantics.
    bedrock = TABLE.cost("anthropic.claude-sonnet-4-20250514-v1:0", "aws.bedrock", usage)
    assert bedrock == pytest.approx(expected)
    # With no provider on the span, the model's own provider decides.
    assert TABLE.cost("claude-sonnet-4", "", usage) == pytest.approx(expected)


def test_openai_counts_are_clamped_not_double_billed() -> None:
    # A cache figure larger than the prompt (a confused emitter) bills the prompt once.
    usage = Usage(input_tokens=100, output_tokens=10, cache_read_tokens=500, reasoning_tokens=50)
    expected = (100 * 0.075 + 10 * 0.60) / 1e6
    assert TABLE.cost("gpt-4o-mini", "openai", usage) == pytest.approx(expected)


def test_overrides_win_from_their_date(tmp_path: Path) -> None:
    file = tmp_path / "prices.json"
    file.write_text(
        json.dumps(
            [
                {"model": "gpt-4o", "input": 1, "output": 2, "effective_from": "2025-03-01"},
                {"model": "my-finetune", "provider": "openai", "input": 7, "output": 9},
            ]
        )
    )
    table = load_prices(file)
    early = table.lookup("gpt-4o", at=datetime(2025, 1, 1))
    late = table.lookup("gpt-4o-2024-08-06", at=datetime(2025, 6, 1))
    assert early is not None and not early.override and early.input == 2.5
    assert late is not None and late.override and (late.input, late.cache_read) == (1, 1)
    assert late.reasoning == 2 and late.source == "user override"
    custom = table.cost("my-finetune", "openai", Usage(input_tokens=10**6, output_tokens=10**6))
    assert custom == pytest.approx(16.0)
    assert [p.model for p in table.overrides] == ["gpt-4o", "my-finetune"]


def test_overrides_round_trip_through_a_file(tmp_path: Path) -> None:
    entries = parse_entries([{"model": "x-1", "input": 1.5, "output": 3}], override=True)
    (tmp_path / "p.json").write_text(json.dumps({"models": entries_data(entries)}))
    again = load_prices(tmp_path / "p.json").overrides
    assert [p.as_dict() for p in again] == [p.as_dict() for p in entries]
    assert load_prices(tmp_path / "missing.json").overrides == []


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"input": 1, "output": 2}, "model"),
        ({"model": "m", "output": 2}, "input"),
        ({"model": "m", "input": -1, "output": 2}, "input"),
        ({"model": "m", "input": 1, "output": "2"}, "output"),
        ({"model": "m", "input": 1, "output": 2, "effective_from": "soon"}, "effective_from"),
    ],
)
def test_bad_entries_name_their_field(entry: dict[str, object], field: str) -> None:
    with pytest.raises(PriceError, match=rf"\[0\]\.{field}"):
        parse_entries([entry])


def test_every_shipped_entry_has_a_date_and_a_source() -> None:
    shipped = TABLE.shipped
    assert len(shipped) > 25
    for price in shipped:
        assert price.effective_from is not None and price.source.startswith("https://")
        assert price.reasoning == price.output  # reasoning tokens are billed as output
    assert isinstance(TABLE, PriceTable)
