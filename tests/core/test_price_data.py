"""The price layers over genai-prices' bundled snapshot: which layer wins when, what the
listing says of each, and that no price data is fetched unless an operator asks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from agentreel.core.price_data import MaintainedPrices, Tokens, maintained
from agentreel.core.prices import PriceTable, Usage, load_prices, parse_entries

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_the_bundled_snapshot_is_used_and_nothing_is_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx2
    from genai_prices import data_snapshot

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("price data fetched over the network")

    monkeypatch.setattr(httpx2, "get", refuse)
    monkeypatch.setattr(httpx2.Client, "send", refuse)
    # gpt-4.1-mini: 0.40 input, 1.60 output.
    assert load_prices().cost("gpt-4.1-mini", "openai", MILLION) == pytest.approx(0.40 + 1.60)
    assert not data_snapshot.get_snapshot().from_auto_update
    about = MaintainedPrices().about()
    assert about["installed"] and about["version"] == "0.2.5" and not about["auto_update"]
    assert about["models"] > 2000 and about["providers"] > 40
    assert date.fromisoformat(about["data_date"]) <= datetime.now(UTC).date()


def test_overrides_then_corrections_then_the_maintained_data(tmp_path: Path) -> None:
    file = tmp_path / "prices.json"
    entry = {"model": "gpt-4.1-mini", "input": 1, "output": 2, "effective_from": "2025-06-01"}
    file.write_text(json.dumps([entry]))
    table = load_prices(file)
    before = table.lookup("gpt-4.1-mini", "openai", datetime(2025, 5, 1))
    after = table.lookup("gpt-4.1-mini-2025-04-14", "openai", datetime(2025, 7, 1))
    assert before is not None and (before.origin, before.input) == ("genai-prices", 0.40)
    assert after is not None and (after.origin, after.input) == ("override", 1.0)
    project = table.for_project(
        parse_entries([{"model": "gpt-4.1-mini", "input": 3, "output": 3}], override=True)
    )
    assert project.cost("gpt-4.1-mini", "openai", MILLION, datetime(2025, 7, 1)) == 6.0
    # A correction: the gpt-4o alias served gpt-4o-2024-05-13 (5.00 / 15.00) until 2024-10-02.
    alias = table.lookup("gpt-4o", "openai", datetime(2024, 9, 1))
    assert alias is not None and (alias.origin, alias.input) == ("agentreel", 5.0)
    # It corrects that name only: the dated snapshot launched at 2.50 / 10.00.
    dated = table.lookup("gpt-4o-2024-08-06", "openai", datetime(2024, 9, 1))
    assert dated is not None and (dated.origin, dated.input) == ("genai-prices", 2.5)


def test_unknown_models_stay_unpriced_never_zero() -> None:
    table = load_prices()
    for model in ("gpt-99", "my-house-model", ""):
        assert table.lookup(model, "openai") is None
        assert table.cost(model, "openai", MILLION) is None
        assert table.cost_as_stored(model, "openai", MILLION) is None
    # Without the maintained layer, only agentreel's own entries price.
    bare = PriceTable(load_prices().shipped)
    assert bare.cost("gpt-4.1-mini", "openai", MILLION) is None
    assert bare.cost("gpt-4o", "openai", MILLION, datetime(2025, 1, 1)) == pytest.approx(12.5)


def test_the_listing_says_the_origin_and_the_tier() -> None:
    table = load_prices()
    tiered = table.lookup("gemini-2.5-pro", "gcp.gemini", datetime(2025, 9, 1))
    assert tiered is not None
    shown = tiered.as_dict()
    assert (shown["origin"], shown["tiered"], shown["input"]) == ("genai-prices", True, 1.25)
    assert shown["model"] == "gemini-2.5-pro" and shown["provider"] == "google"
    assert maintained() is maintained()  # one lookup cache per process


def test_costs_agree_with_genai_prices_own_calculation_for_every_model() -> None:
    # agentreel computes a call's cost from the model's prices itself (genai-prices'
    # calc_price takes about 1 ms a call); it must come to the same dollars, tiers
    # (300,000 prompt tokens), fees and the parts' fallbacks included, for every model.
    data = MaintainedPrices()
    at = datetime(2026, 12, 1, 20, tzinfo=UTC)
    compared = 0
    for provider in data.about_providers():
        for info in provider.models:
            for counts in ((300_000, 100_000, 20_000, 5_000, 2_000), (1_000, 0, 0, 100, 0)):
                ours = data.cost(info.id, provider.id, Tokens(*counts), at)
                theirs = data.reference_cost(info.id, provider.id, Tokens(*counts), at)
                if theirs is None:  # a model its own id does not find (a few in the data)
                    assert ours is None
                    continue
                assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), (info.id, counts)
                compared += 1
    assert compared > 4_000
