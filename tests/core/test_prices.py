"""The price table: its layers (overrides, agentreel's corrections, genai-prices' snapshot),
name matching, dates, provider token semantics, and the peers' cost bugs as cases.

Expected costs are computed by hand from the provider's published prices on the call's day
(USD per 1M tokens, the arithmetic in each test), never by agentreel or genai-prices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentreel.core import prices
from agentreel.core.prices import (
    PriceError,
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
    price, base = TABLE.lookup(name), TABLE.lookup(listed)
    assert price is not None and base is not None
    assert (price.input, price.output, price.cache_read) == (
        base.input,
        base.output,
        base.cache_read,
    )


@pytest.mark.parametrize("name", ["gpt-99", "claude-x", "claude-sonnet", "ft:gpt-4o:acme::x", ""])
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


def test_every_correction_has_a_date_a_source_and_a_reason() -> None:
    listed = json.loads((Path(prices.__file__).parent / "prices.json").read_text())["models"]
    assert len(listed) == len(TABLE.shipped) > 0
    for entry, price in zip(listed, TABLE.shipped, strict=True):
        assert price.effective_from is not None and price.source.startswith("https://")
        assert price.reasoning == price.output  # reasoning tokens are billed as output
        assert len(entry["why"]) > 40, entry  # what genai-prices lacks or gets wrong
        assert price.origin == "agentreel"


# -- the peers' cost bugs, as cases --------------------------------------------------------

SEP_2025 = datetime(2025, 9, 1, 12, tzinfo=UTC)


def test_cached_input_is_counted_once_openai_style() -> None:
    # Langfuse billed OpenAI's cached tokens twice: once in prompt_tokens, once as cached.
    # gpt-4o-mini: input 0.15, cached input 0.075, output 0.60. 10,000 prompt tokens of
    # which 6,000 cached: 4,000 * 0.15 + 6,000 * 0.075 + 500 * 0.60 = 600 + 450 + 300.
    usage = Usage(input_tokens=10_000, output_tokens=500, cache_read_tokens=6_000)
    expected = (4_000 * 0.15 + 6_000 * 0.075 + 500 * 0.60) / 1e6
    assert TABLE.cost("gpt-4o-mini", "openai", usage, SEP_2025) == pytest.approx(expected)
    assert TABLE.cost_as_stored("gpt-4o-mini", "openai", usage, SEP_2025) == pytest.approx(expected)
    # Azure OpenAI and OpenRouter report OpenAI's way.
    for provider in ("azure.ai.openai", "az.ai.openai"):
        assert TABLE.cost("gpt-4o-mini", provider, usage, SEP_2025) == pytest.approx(expected)


def test_cached_input_is_counted_once_anthropic_style() -> None:
    # claude-sonnet-4: input 3.00, cache read 0.30, cache write (5 min) 3.75, output 15.00.
    # Anthropic's own input_tokens (3,000) exclude the 6,000 read and 1,000 written:
    # 3,000 * 3 + 6,000 * 0.30 + 1,000 * 3.75 + 500 * 15 = 9,000 + 1,800 + 3,750 + 7,500.
    expected = (3_000 * 3.00 + 6_000 * 0.30 + 1_000 * 3.75 + 500 * 15.00) / 1e6
    raw = Usage(
        input_tokens=3_000, output_tokens=500, cache_read_tokens=6_000, cache_write_tokens=1_000
    )
    assert TABLE.cost("claude-sonnet-4-20250514", "anthropic", raw, SEP_2025) == pytest.approx(
        expected
    )
    # Stored as the OTel conventions say (input 10,000 including both): the same dollars.
    stored = Usage(10_000, 500, 6_000, 1_000)
    assert TABLE.cost_as_stored(
        "claude-sonnet-4-20250514", "anthropic", stored, SEP_2025
    ) == pytest.approx(expected)
    # A raw Anthropic count stored as is (smaller than its cache figures) is read as raw.
    assert TABLE.cost_as_stored(
        "claude-sonnet-4-20250514", "anthropic", raw, SEP_2025
    ) == pytest.approx(expected)


def test_reasoning_tokens_are_priced_as_output() -> None:
    # o4-mini: input 1.10, output 4.40; 2,500 of the 3,000 output tokens are reasoning,
    # included in the output count: 1,000 * 1.10 + 3,000 * 4.40 = 1,100 + 13,200.
    usage = Usage(input_tokens=1_000, output_tokens=3_000, reasoning_tokens=2_500)
    expected = (1_000 * 1.10 + 3_000 * 4.40) / 1e6
    assert TABLE.cost("o4-mini", "openai", usage, SEP_2025) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("provider", "output", "total"),
    [
        # Gemini's own counts: candidates 200, thoughts 800 apart, total 2,000 reported.
        ("gcp.gemini", 200, 2_000),
        # Google ADK reports the candidates count as the output and no total.
        ("gcp.vertex.agent", 200, 1_200),
        # OpenInference: thoughts folded into the output count, total 2,000 reported.
        ("google", 1_000, 2_000),
        # The OTel google-genai instrumentor: folded, no total (the collector's: in + out).
        ("gcp.gen_ai", 1_000, 2_000),
        ("gcp.vertex_ai", 1_000, 0),
    ],
)
def test_gemini_thoughts_are_billed_as_output_once(provider: str, output: int, total: int) -> None:
    # Langfuse left Gemini's thoughts out. gemini-2.5-flash: input 0.30, output (thinking
    # included) 2.50. 1,000 input; 200 answer + 800 thought tokens:
    # 1,000 * 0.30 + (200 + 800) * 2.50 = 300 + 2,500.
    usage = Usage(
        input_tokens=1_000, output_tokens=output, reasoning_tokens=800, total_tokens=total
    )
    expected = (1_000 * 0.30 + 1_000 * 2.50) / 1e6
    cost = TABLE.cost_as_stored("gemini-2.5-flash", provider, usage, SEP_2025)
    assert cost == pytest.approx(expected)
    # Through OpenRouter, OpenAI's way: completion tokens include the reasoning.
    routed = Usage(input_tokens=1_000, output_tokens=1_000, reasoning_tokens=800)
    cost = TABLE.cost_as_stored("google/gemini-2.5-flash", "openrouter", routed, SEP_2025)
    assert cost == pytest.approx(expected)


def test_prompts_over_200k_tokens_pay_the_long_context_tier() -> None:
    # Opik ignored the tier. gemini-2.5-pro: up to 200k prompt tokens 1.25 input / 10.00
    # output; over 200k 2.50 / 15.00 for the whole call.
    short = Usage(input_tokens=100_000, output_tokens=1_000)
    long = Usage(input_tokens=250_000, output_tokens=1_000)
    assert TABLE.cost("gemini-2.5-pro", "gcp.gemini", short, SEP_2025) == pytest.approx(
        (100_000 * 1.25 + 1_000 * 10.00) / 1e6
    )
    assert TABLE.cost("gemini-2.5-pro", "gcp.gemini", long, SEP_2025) == pytest.approx(
        (250_000 * 2.50 + 1_000 * 15.00) / 1e6
    )
    # claude-sonnet-4-5: over 200k input tokens (cache included) 6.00 / 22.50 instead of
    # 3.00 / 15.00. Anthropic's 150,000 uncached + 100,000 read = 250,000 prompt tokens:
    # 150,000 * 6.00 + 100,000 * 0.60 (cache read, 0.1x) + 2,000 * 22.50.
    usage = Usage(input_tokens=150_000, output_tokens=2_000, cache_read_tokens=100_000)
    expected = (150_000 * 6.00 + 100_000 * 0.60 + 2_000 * 22.50) / 1e6
    day = datetime(2025, 10, 15, tzinfo=UTC)
    assert TABLE.cost("claude-sonnet-4-5", "anthropic", usage, day) == pytest.approx(expected)


@pytest.mark.parametrize(
    "name",
    [
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "eu.anthropic.claude-sonnet-4-20250514-v1:0",
    ],
)
def test_bedrock_model_ids_are_priced_like_their_base_model(name: str) -> None:
    # Phoenix priced Bedrock calls 42x too high. Claude Sonnet 4 on Bedrock: 3.00 input,
    # 15.00 output, as on Anthropic's API: 2,000 * 3.00 + 1,000 * 15.00.
    usage = Usage(input_tokens=2_000, output_tokens=1_000)
    expected = (2_000 * 3.00 + 1_000 * 15.00) / 1e6
    for provider in ("aws.bedrock", "bedrock", ""):
        assert TABLE.cost_as_stored(name, provider, usage, SEP_2025) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("model", "provider", "input_price", "output_price"),
    [
        # mistral-large-latest (Mistral Large 2.1): 2.00 input, 6.00 output.
        ("mistral-large-latest", "mistral_ai", 2.00, 6.00),
        # OpenRouter passes the provider's price through.
        ("openai/gpt-4o-mini", "openrouter", 0.15, 0.60),
        ("anthropic/claude-sonnet-4", "openrouter", 3.00, 15.00),
        # Claude on Vertex AI, as the Anthropic Vertex SDK names it.
        ("claude-sonnet-4@20250514", "gcp.vertex_ai", 3.00, 15.00),
    ],
)
def test_other_providers_are_priced(
    model: str, provider: str, input_price: float, output_price: float
) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    cost = TABLE.cost_as_stored(model, provider, usage, SEP_2025)
    assert cost == pytest.approx(input_price + output_price)


@pytest.mark.parametrize(
    ("model", "at", "dollars"),
    [
        # DeepSeek-V3 (genai-prices' data): 0.27 input, 1.10 output from 00:30 to 16:30 UTC,
        # 0.135 / 0.55 off-peak; R1 (deepseek-reasoner) 0.55 / 2.19 at peak hours.
        ("deepseek-chat", datetime(2025, 8, 1, 10, tzinfo=UTC), 0.27 + 1.10),
        ("deepseek-chat", datetime(2025, 8, 1, 18, tzinfo=UTC), 0.135 + 0.55),
        ("deepseek-reasoner", datetime(2025, 8, 1, 10, tzinfo=UTC), 0.55 + 2.19),
        # V3.1 from 2025-09-05 (agentreel's correction): 0.56 / 1.68 for both, every hour.
        ("deepseek-chat", datetime(2025, 9, 10, 18, tzinfo=UTC), 0.56 + 1.68),
        ("deepseek-reasoner", datetime(2025, 9, 10, 10, tzinfo=UTC), 0.56 + 1.68),
        # V3.2-Exp from 2025-09-29: 0.28 / 0.42.
        ("deepseek-chat", datetime(2025, 10, 15, 10, tzinfo=UTC), 0.28 + 0.42),
        ("deepseek-reasoner", datetime(2025, 10, 15, 18, tzinfo=UTC), 0.28 + 0.42),
    ],
)
def test_deepseek_is_priced_at_the_day_and_hour_of_the_call(
    model: str, at: datetime, dollars: float
) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert TABLE.cost(model, "deepseek", usage, at) == pytest.approx(dollars)
