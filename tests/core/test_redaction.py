"""Redaction rules: what each ready pattern catches, what it leaves alone, custom rules,
the function hook and the counts."""

from __future__ import annotations

import json
import re

import pytest

from agentreel.core.redaction import DEFAULT_PATTERNS, READY_PATTERNS, Redactor, marker, parse_rules

SECRETS = {
    "openai": "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8t",
    "openai_project": "sk-proj-" + "Zx9Cv8Bn7Mq6Wl5Ek4Rt3Yu2Io1Pa0Sd",
    "anthropic": "sk-ant-api03-" + "Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc-_AbCdEf",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "github_fine": "github_pat_11ABCDEFG0" + "123456789_abcdefghijklmnopqrstuvw",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_api_keys_of_each_provider_are_redacted(name: str) -> None:
    text, counts = Redactor().redact(f"use {SECRETS[name]} please")
    assert text == "use [REDACTED:api_key] please"
    assert counts == {"api_key": 1}


def test_bearer_token_keeps_the_scheme_word() -> None:
    text, counts = Redactor(["api_key"]).redact(
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    )
    assert text == "Authorization: Bearer [REDACTED:api_key]"
    assert counts == {"api_key": 1}


def test_key_assignments_are_redacted_only_when_the_value_looks_secret() -> None:
    text, counts = Redactor(["api_key"]).redact(
        'api_key=Zr8Qw2Lk5Vb7Nm1Xc4Hj "client_secret": "p0O9i8U7y6T5r4E3w2Q1" '
        "token=reasoning_tokens_total password=aaaaaaaaaaaaaaaaaaaa"
    )
    assert text == (
        'api_key=[REDACTED:api_key] "client_secret": "[REDACTED:api_key]" '
        "token=reasoning_tokens_total password=aaaaaaaaaaaaaaaaaaaa"
    )
    assert counts == {"api_key": 2}


def test_emails() -> None:
    text, counts = Redactor(["email"]).redact(
        "to bob.smith+tag@mail.example.co.uk and alice@example.org; not user@localhost or a@b"
    )
    assert text == "to [REDACTED:email] and [REDACTED:email]; not user@localhost or a@b"
    assert counts == {"email": 2}


def test_cards_are_luhn_checked() -> None:
    text, counts = Redactor(["card"]).redact(
        "visa 4111 1111 1111 1111, amex 3782-822463-10005, plain 5555555555554444; "
        "not a card: 4111 1111 1111 1112 or order 1234567890123"
    )
    assert text == (
        "visa [REDACTED:card], amex [REDACTED:card], plain [REDACTED:card]; "
        "not a card: 4111 1111 1111 1112 or order 1234567890123"
    )
    assert counts == {"card": 3}


def test_phones_but_not_dates_addresses_versions_or_counts() -> None:
    text, counts = Redactor(["phone"]).redact(
        "call +1 415-555-0132, (415) 555-0132, +4915112345678 or 030 1234567. "
        "Not: 192.168.100.200, 2024-01-15 10:00, v1.2.3, 1700000000 ms, 12345 tokens"
    )
    assert text == (
        "call [REDACTED:phone], [REDACTED:phone], [REDACTED:phone] or [REDACTED:phone]. "
        "Not: 192.168.100.200, 2024-01-15 10:00, v1.2.3, 1700000000 ms, 12345 tokens"
    )
    assert counts == {"phone": 4}


def test_default_rules_together_count_per_rule() -> None:
    assert tuple(READY_PATTERNS) == DEFAULT_PATTERNS
    text, counts = Redactor().redact(
        f"key {SECRETS['openai']}, mail a@example.com b@example.com, card 4111111111111111, "
        "phone +44 20 7946 0958"
    )
    assert "REDACTED" in text and "example.com" not in text and "4111" not in text
    assert counts == {"api_key": 1, "email": 2, "card": 1, "phone": 1}


def test_redacted_json_text_stays_valid_json() -> None:
    # Escapes such as \n sit right before the secret in JSON text: still found, and the
    # escape is left intact.
    content = f"I'm a@b.io\n+1 415 555 0132\n{SECRETS['aws']}\nbob@x.org\t4111111111111111"
    messages = [{"role": "user", "parts": [{"type": "text", "content": content}]}]
    text, counts = Redactor().redact(json.dumps(messages))
    assert json.loads(text)[0]["parts"][0]["content"] == (
        "I'm [REDACTED:email]\n[REDACTED:phone]\n[REDACTED:api_key]\n[REDACTED:email]"
        "\t[REDACTED:card]"
    )
    assert counts == {"api_key": 1, "email": 2, "card": 1, "phone": 1}


def test_custom_regexes_named_and_unnamed() -> None:
    redactor = Redactor(
        ["email", r"ACME-\d{6}", re.compile(r"(?i)project falcon"), ("employee", r"E\d{5}")]
    )
    assert redactor.rules == ("email", "custom", "custom", "employee")
    text, counts = redactor.redact("ACME-123456 on Project Falcon by E12345 (e@x.com)")
    assert text == (
        "[REDACTED:custom] on [REDACTED:custom] by [REDACTED:employee] ([REDACTED:email])"
    )
    assert counts == {"custom": 2, "employee": 1, "email": 1}


def test_function_hook_runs_last_and_counts_once_when_it_changes_text() -> None:
    redactor = Redactor(["email"], func=lambda s: s.replace("Falcon", "[codename]"))
    assert redactor.redact("Falcon to a@b.io") == (
        "[codename] to [REDACTED:email]",
        {"email": 1, "func": 1},
    )
    assert redactor.redact("nothing here") == ("nothing here", {})


def test_function_hook_returning_a_non_string_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="returned NoneType"):
        Redactor([], func=lambda s: None).redact("x")  # type: ignore[arg-type,return-value]


def test_bad_rules_are_named() -> None:
    with pytest.raises(ValueError, match="unknown ready pattern 'emial'"):
        Redactor(["emial"])
    with pytest.raises(ValueError, match=r"invalid redaction pattern '\(unclosed'"):
        Redactor(["(unclosed"])
    with pytest.raises(ValueError, match="unknown ready pattern 'ssn'"):
        parse_rules("email, ssn")
    assert parse_rules(" api_key,email ,") == ["api_key", "email"]


def test_a_single_rule_name_is_not_split_into_characters() -> None:
    assert Redactor("email").rules == ("email",)
    assert marker("card") == "[REDACTED:card]"
