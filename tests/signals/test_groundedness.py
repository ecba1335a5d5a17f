"""The model-free groundedness check against hand-written cases: the normalizers (numbers in
any notation and scale, percentages, minor units, dates and epoch values, versions), and the
checks that use them (statuses, names, records, the question, arithmetic, hedges)."""

from __future__ import annotations

import json

import pytest

from agentreel.signals import normalize as nz
from agentreel.signals.groundedness import check


def _number(text: str) -> nz.Number:
    match = nz.NUMBER.search(text)
    assert match is not None, text
    number = nz.parse_number(match)
    assert number is not None
    return number


@pytest.mark.parametrize(
    ("written", "value", "unit"),
    [
        ("1,200,000", 1_200_000, 1),
        ("1.2 million", 1_200_000, 100_000),
        ("1.2M", 1_200_000, 100_000),
        ("58.2k", 58_200, 100),
        ("$49.99", 49.99, 0.01),
        ("3%", 3, 1),
        ("2.5 billion", 2_500_000_000, 100_000_000),
    ],
)
def test_numbers_are_read_in_any_notation(written: str, value: float, unit: float) -> None:
    number = _number(written)
    assert number.value == pytest.approx(value)
    assert number.unit == pytest.approx(unit)


def test_a_number_matches_what_rounds_to_it_and_nothing_else() -> None:
    assert _number("1.2 million").matches(1_234_567)
    assert not _number("1.3 million").matches(1_234_567)
    assert _number("1,234").matches(1234) and not _number("1,243").matches(1234)
    assert _number("$50").matches(49.99) and not _number("$50").matches(48)


@pytest.mark.parametrize(
    ("written", "parts"),
    [
        ("May 31 08:14:54 2024 GMT", (2024, 5, 31, 8, 14)),
        ("2024-05-31T08:14:54Z", (2024, 5, 31, 8, 14)),
        ("31 May 2024", (2024, 5, 31, None, None)),
        ("May 31st, 2024 at 8:14 pm", (2024, 5, 31, 20, 14)),
        ("05/31/2024", (2024, 5, 31, None, None)),
        ("31/05/2024", (2024, 5, 31, None, None)),
        ("June 3", (None, 6, 3, None, None)),
    ],
)
def test_dates_are_read_in_common_formats(written: str, parts: tuple[int | None, ...]) -> None:
    [(_, _, when)] = nz.dates(written)
    assert when.parts() == parts


def test_epoch_seconds_and_millis_read_as_dates() -> None:
    # 1717143294 = 2024-05-31T08:14:54Z (computed by hand from 19874 days + 29694 s)
    assert nz.epoch(1717143294).parts() == (2024, 5, 31, 8, 14)
    assert nz.epoch(1717143294000).parts() == (2024, 5, 31, 8, 14)
    assert nz.epoch(4411) is None


def test_versions_are_compared_whole() -> None:
    assert [v for _, _, v in nz.versions("upgrade to v5.6.2 now")] == ["5.6.2"]
    assert not nz.same_version("5.6.2", "5.6.0")
    assert nz.same_version("5.6", "5.6.0")


def _unsupported(answer: str, evidence: list[str], question: str = "") -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in check(answer, evidence, question).unsupported]


ORDERS = json.dumps(
    {
        "orders": [
            {"order_id": "A-1001", "total": 20.0, "status": "shipped", "paid": True},
            {"order_id": "B-2002", "total": 30.0, "status": "pending", "paid": False},
        ]
    }
)


@pytest.mark.parametrize(
    "answer",
    [
        "Revenue was 1.2 million dollars.",
        "Revenue was $1.2M, up 3% on a churn of 0.03.",
        "The subscription costs $49.99 per month.",
        "The certificate expires on May 31, 2024 at 08:14 UTC.",
        "Orders A-1001 and B-2002 come to $50 together.",
        "A-1001 costs $10 less than B-2002.",
    ],
)
def test_restated_evidence_is_grounded(answer: str) -> None:
    evidence = [
        '{"revenue": 1200000, "churn": 0.03, "growth_pct": 3}',
        '{"plan": "pro", "price_cents": 4999}',
        "notAfter=May 31 08:14:54 2024 GMT",
        ORDERS,
    ]
    verdict = check(answer, evidence)
    assert verdict.unsupported == [] and verdict.status == "grounded"


def test_inverted_status_is_caught_with_the_field_it_contradicts() -> None:
    [claim] = check("Order B-2002 has been paid.", [ORDERS]).unsupported
    assert claim.kind == "status" and claim.evidence == "paid: False"
    [claim] = check("B-2002 has shipped.", [ORDERS]).unsupported
    assert claim.evidence == "status: pending"
    assert check("A-1001 has shipped and is paid.", [ORDERS]).status == "grounded"
    assert check("B-2002 has not shipped yet.", [ORDERS]).status == "grounded"


def test_values_swapped_between_records_are_caught() -> None:
    found = check("A-1001 costs $30 and B-2002 costs $20.", [ORDERS]).unsupported
    assert [(c.text, c.evidence) for c in found] == [("$30", "total: 20.0"), ("$20", "total: 30.0")]


def test_wrong_and_invented_names_are_caught_quoted_or_not() -> None:
    evidence = ['{"customer": "Maria Lopez", "carrier": "Acme Freight"}']
    assert _unsupported("Maria Lopez's parcel goes with Acme Freight.", evidence) == []
    assert _unsupported("Mario Lopez's parcel goes with Acme Freight.", evidence) == [
        ("name", "Mario Lopez")
    ]
    assert _unsupported("It goes with Globex Logistics.", evidence) == [
        ("name", "Globex Logistics")
    ]


def test_the_question_is_no_evidence_for_numbers() -> None:
    evidence = ['{"refund": 45.0}']
    question = "Was my refund of $50 processed?"
    assert _unsupported("Your refund of $50 was processed.", evidence, question) == [
        ("amount", "$50")
    ]
    # but it may name what was asked about
    assert _unsupported("Your refund for ORD-7 is $45.", evidence, "Refund for ORD-7?") == []


def test_small_numbers_attached_to_a_noun_are_checked() -> None:
    evidence = ['{"items": [{"sku": "X-1"}, {"sku": "X-2"}], "warehouse": "north"}']
    assert _unsupported("The order has 2 items.", evidence) == []
    assert _unsupported("The order has 3 items.", evidence) == [("number", "3")]


def test_wrong_version_date_and_number_name_the_evidence_they_were_compared_with() -> None:
    evidence = ['{"version": "5.6.0", "released": "2024-05-31", "downloads": 1234}']
    found = check("Version 5.6.2 came out on June 1, 2024 with 1,243 downloads.", evidence)
    assert [(c.kind, c.evidence) for c in found.unsupported] == [
        ("version", "5.6.0"),
        ("date", "released: 2024-05-31"),
        ("number", "downloads: 1234"),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "I couldn't find an order with that number; could you check it?",
        "It might be around $80, but I could not confirm that.",
        "Thanks for waiting, the team will get back to you.",
    ],
)
def test_hedges_refusals_and_claimless_answers_are_not_flagged(answer: str) -> None:
    verdict = check(answer, ['{"total": 20.0}'])
    assert verdict.unsupported == [] and verdict.status == "unchecked"


def test_a_csv_value_after_a_date_is_read_alone_and_sums_over_it() -> None:
    # 120 + 95 + 143 = 358 by hand; "01,120" must not read as 1,120.
    evidence = ["date,signups\n2024-07-01,120\n2024-07-02,95\n2024-07-03,143"]
    assert _unsupported("There were 358 signups over the three days.", evidence) == []
    assert _unsupported("July 1 had 120 signups.", evidence) == []
    assert _unsupported("July 1 had 1,120 signups.", evidence) == [("number", "1,120")]


def test_a_table_header_is_not_a_record() -> None:
    # 18420.55 + 3310.20 + 469.25 = 22200.00; "accounts" names the header, which has no date.
    evidence = ["account,month,cost_usd\nprod,2024-08,18420.55\nstaging,2024-08,3310.20"]
    assert _unsupported("The accounts spent $21,730.75 in August 2024.", evidence) == []
    assert _unsupported("The accounts spent $21,730.75 in July 2024.", evidence) == [
        ("date", "July 2024")
    ]


def test_access_log_dates_and_time_ranges_sharing_one_pm() -> None:
    log = ['10.0.4.17 - - [22/Feb/2024:18:05:31 +0000] "POST /api/v2/orders HTTP/1.1" 502 166']
    assert _unsupported("It failed at 18:05 UTC on 22 February 2024.", log) == []
    assert _unsupported("It failed on 23 February 2024.", log) == [("date", "23 February 2024")]
    meeting = ['{"start": "2025-03-04T15:30:00-05:00", "end": "2025-03-04T16:30:00-05:00"}']
    assert _unsupported("It runs from 3:30 to 4:30 pm (UTC-5).", meeting) == []
    assert _unsupported("It runs from 2:30 to 4:30 pm.", meeting) == [("time", "2:30 ")]


def test_a_number_joined_to_its_noun_is_checked_as_that_number() -> None:
    evidence = ['{"listing": "L-7712", "bedrooms": 2, "timeout_ms": 5000}']
    assert _unsupported("It's a 2-bedroom that timed out after a 5-second wait.", evidence) == []
    assert _unsupported("It's a 3-bedroom.", evidence) == [("number", "3")]
    assert _unsupported("It timed out after a 7-second wait.", evidence) == [("number", "7")]


def test_a_capitalized_prefix_of_an_adjective_is_the_name() -> None:
    evidence = ['{"snippet": "elevated DNS resolution failures in us-east"}']
    assert _unsupported("The errors look DNS-related.", evidence) == []


@pytest.mark.parametrize(
    ("evidence", "right", "wrong"),
    [
        # 90 s = 1.5 min; the unit comes from the field's name, here in YAML
        ("cache:\n  backend: redis\n  ttl_seconds: 90", "1.5 minutes", "90 minutes"),
        ('{"elapsed_ms": 4200}', "4.2 seconds", "4.2 minutes"),
        ('{"duration_us": 1840}', "1.84 ms", "1.84 seconds"),
        ('{"size_bytes": 734003200}', "700 MB", "700 GB"),  # 734003200 / 1024² = 700
        ("dist/main.js  286 kB │ gzip: 82 kB", "286 kB", "286 MB"),  # the unit beside it
    ],
)
def test_a_known_unit_converts_only_by_its_own_factor(
    evidence: str, right: str, wrong: str
) -> None:
    assert _unsupported(f"It is {right}.", [evidence]) == []
    assert _unsupported(f"It is {wrong}.", [evidence]) == [("number", wrong)]


def test_unit_free_values_still_convert_by_any_common_factor() -> None:
    assert _unsupported("It costs $49.99.", ['{"price": 4999}']) == []


def test_derived_shares_and_remainders() -> None:
    # 91200 / (91200 + 8800) = 0.912; 25 − 17.5 − 2 = 5.5
    assert _unsupported("91.2% came from cache.", ['{"hits": 91200, "misses": 8800}']) == []
    assert _unsupported("92.4% came from cache.", ['{"hits": 91200, "misses": 8800}']) == [
        ("percent", "92.4%")
    ]
    pto = ['{"allowance_days": 25, "taken_days": 17.5, "pending_days": 2}']
    assert _unsupported("You have 5.5 days left.", pto) == []


def test_a_claim_about_one_row_is_not_supported_by_sums_over_other_rows() -> None:
    table = ["queue       open  pending\nbilling      214       37\nonboarding    58       12"]
    assert _unsupported("The billing queue has 214 open tickets.", table) == []
    # 58 + 12 = 70 adds up only over onboarding's values
    assert _unsupported("The billing queue has 70 open tickets.", table) == [("number", "70")]


def test_csv_cells_take_their_column_unit() -> None:
    csv = ["region,p95_ms\neu-west-1,142\nap-south-1,231"]
    assert _unsupported("ap-south-1 has a p95 of 231 ms.", csv) == []
    assert _unsupported("ap-south-1 has a p95 of 231 seconds.", csv) == [("number", "231 seconds")]


def test_df_sizes_with_a_glued_letter() -> None:
    df = [
        "Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p2  1.8T  1.5T  312G  83% /data"
    ]
    assert _unsupported("/data has 312 GB free of 1.8 TB.", df) == []


def test_an_apology_does_not_hedge_the_claim_after_it() -> None:
    evidence = ['{"sku": "DESK-51", "in_stock": true, "quantity": 59}']
    assert _unsupported("Sorry, DESK-51 is currently out of stock.", evidence) == [
        ("status", "out of stock")
    ]
    assert _unsupported("Sorry for the wait: DESK-51 is in stock.", evidence) == []


def test_a_lapsed_membership_is_not_active() -> None:
    evidence = ['{"member": "M-30021", "status": "lapsed"}']
    assert _unsupported("Membership M-30021 is active.", evidence) == [("status", "active")]
    assert _unsupported("Membership M-30021 has expired.", evidence) == []


def test_a_name_spelled_as_in_the_question_not_as_in_the_evidence() -> None:
    evidence = ['{"contract": "MSA-2024-17", "signed_by": "Karen Lu"}']
    question = "Did Karen Liu sign MSA-2024-17?"
    assert _unsupported("Yes, Karen Liu signed MSA-2024-17.", evidence, question) == [
        ("name", "Karen Liu")
    ]
    assert _unsupported("Yes, Karen Lu signed MSA-2024-17.", evidence, question) == []
    # an accent is no other spelling
    cafe = ['{"place": "Sunrise Cafe", "rating": 4.4}']
    assert _unsupported("Sunrise Café has a 4.4 rating.", cafe) == []


def test_a_small_number_after_a_field_word_is_checked() -> None:
    evidence = ['{"reservation": "RSV-332373", "party_size": 2, "time": "2025-06-17T19:30:00"}']
    assert _unsupported("The reservation is for a party of 2 at 7:30 PM.", evidence) == []
    assert _unsupported("The reservation is for a party of 4 at 7:30 PM.", evidence) == [
        ("number", "4")
    ]


def test_a_decimal_point_does_not_end_the_sentence_that_names_the_record() -> None:
    evidence = [
        '{"id": "INV-7001", "due": "2025-03-01", "amount": 980.00}',
        '{"id": "INV-7002", "due": "2025-03-15", "amount": 1450.00}',
    ]
    right = "INV-7001 ($980.00) is due March 1, 2025, and INV-7002 ($1,450.00) March 15, 2025."
    swapped = "INV-7001 ($980.00) is due March 15, 2025, and INV-7002 ($1,450.00) March 1, 2025."
    assert _unsupported(right, evidence) == []
    assert _unsupported(swapped, evidence) == [
        ("date", "March 15, 2025"),
        ("date", "March 1, 2025"),
    ]


def test_a_span_between_two_moments_of_the_evidence() -> None:
    # 21:15 on Aug 2 to 02:05 on Aug 3 is 4 h 50 min (290 min) by hand
    evidence = ['{"started_at": "2024-08-02T21:15:00Z", "resolved_at": "2024-08-03T02:05:00Z"}']
    assert _unsupported("The outage lasted 4 hours 50 minutes.", evidence) == []
    assert _unsupported("The outage lasted 290 minutes.", evidence) == []
    assert _unsupported("The outage lasted 5 hours 50 minutes.", evidence) == [
        ("number", "5 hours 50 minutes")
    ]


def test_a_link_the_evidence_never_gave_is_unsupported() -> None:
    evidence = ['[{"title": "Rate limits", "url": "https://docs.example.com/api/rate-limits"}]']
    assert _unsupported("See https://docs.example.com/api/rate-limits.", evidence) == []
    assert _unsupported("See https://docs.example.com/api/quotas.", evidence) == [
        ("url", "https://docs.example.com/api/quotas")
    ]


def test_one_variant_out_of_stock_and_another_in_stock() -> None:
    evidence = ['{"variants": [{"size": "M", "in_stock": false}, {"size": "L", "in_stock": true}]}']
    assert _unsupported("It is out of stock in medium but in stock in large.", evidence) == []
    # "not pending" would say nothing of "paid": only true opposites count
    assert _unsupported("The invoice is paid.", ['{"pending": false, "overdue": true}']) == [
        ("status", "paid")
    ]


def test_a_yearly_price_per_month() -> None:
    # 28800 cents a year = $288 = $24 a month (÷ 12)
    evidence = [
        '{"plan": "team-annual", "unit_amount": 28800, "currency": "usd", "interval": "year"}'
    ]
    assert _unsupported("It is $288 a year, which is $24 a month.", evidence) == []
    assert _unsupported("It is $288 a year, which is $28 a month.", evidence) == [("amount", "$28")]
    # without a period in the evidence, no division by 12 is offered
    assert _unsupported("It is $24.", ['{"unit_amount": 28800}']) == [("amount", "$24")]


def test_a_value_said_to_be_absent() -> None:
    evidence = ['{"classifiers": ["Python :: 3.11", "Python :: 3.12"]}']
    assert _unsupported("3.12 is listed; 3.13 isn't listed.", evidence) == []
    assert _unsupported("3.13 is listed.", evidence) == [("number", "3.13")]
