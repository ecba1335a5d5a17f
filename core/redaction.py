"""Redaction of secrets and personal data in text, before it leaves the agent or is stored.

Standard library only: the SDK redacts in the agent process and the collector at ingestion,
with the same rules.

    >>> Redactor().redact("mail bob@example.com, key sk-proj-abcdefghijklmnopqrstuvwx")
    ('mail [REDACTED:email], key [REDACTED:api_key]', {'email': 1, 'api_key': 1})

Rules are applied in order; each replaces what it matches with ``[REDACTED:<rule>]``. A rule
whose pattern has groups named ``*secret`` replaces only those groups (``Bearer <token>``
keeps the word ``Bearer``). Ready rules: ``api_key`` (OpenAI, Anthropic, AWS access key ids,
GitHub tokens, bearer tokens, high-entropy values of ``key=``/``token:``-like assignments),
``email``, ``card`` (Luhn-checked, 13-19 digits) and ``phone``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

__all__ = [
    "DEFAULT_PATTERNS",
    "READY_PATTERNS",
    "Redactor",
    "marker",
    "parse_rules",
]

_KEY_WORDS = (
    r"api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?key|private[_-]?key|auth[_-]?token"
    r"|access[_-]?token|refresh[_-]?token|token|password|passwd|pwd|client[_-]?secret"
)


def _start(excluded: str = "") -> str:
    """Where a match may begin: not right after a word character (or ``excluded``), except
    after a JSON/C escape such as ``\\n``, so text inside JSON strings is matched too."""
    return rf"(?:(?<![\w\\{excluded}])|(?<=\\[nrtbf]))"


READY_PATTERNS: dict[str, re.Pattern[str]] = {
    "api_key": re.compile(
        # OpenAI (sk-, sk-proj-, sk-svcacct-) and Anthropic (sk-ant-) keys.
        rf"{_start('-')}sk-[A-Za-z0-9_\-]{{20,}}"
        # AWS access key ids (long-term and temporary).
        rf"|{_start()}(?:AKIA|ASIA)[0-9A-Z]{{16}}\b"
        # GitHub classic and fine-grained tokens.
        rf"|{_start()}gh[pousr]_[A-Za-z0-9]{{36,}}\b|{_start()}github_pat_[A-Za-z0-9_]{{22,}}"
        # Authorization: Bearer <token>
        rf"|{_start()}[Bb][Ee][Aa][Rr][Ee][Rr]\s+(?P<bearer_secret>[A-Za-z0-9\-._~+/]{{16,}}=*)"
        # api_key=..., "token": "...", password: ... (kept only when high-entropy).
        rf"|{_start()}(?i:{_KEY_WORDS})[\"']?\s*[:=]\s*[\"']?(?P<kv_secret>[A-Za-z0-9_\-+/=.]{{16,}})"
    ),
    "email": re.compile(
        rf"{_start('.%+-')}[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
    ),
    # 13-19 digits, optionally grouped by single spaces or dashes; Luhn-checked below.
    "card": re.compile(rf"{_start('+-')}\d(?:[ -]?\d){{12,18}}(?!\w|-\d)"),
    # International (+CC ...) or grouped national numbers; not inside longer numbers,
    # versions or IP addresses (no digit or dot-digit right before or after).
    "phone": re.compile(
        rf"{_start('.+')}(?:\+\d{{1,3}}[ .\-]?)?(?:\(\d{{1,4}}\)[ .\-]?|\d{{2,4}}[ .\-])"
        r"\d{2,4}(?:[ .\-]?\d{2,4}){0,2}(?!\w|[.\-]\d)"
        rf"|{_start('.+')}\+\d{{8,15}}(?!\w|[.\-]\d)"
    ),
}

DEFAULT_PATTERNS: tuple[str, ...] = ("api_key", "email", "card", "phone")

# A `key=value` match must look like a secret, not like `token=reasoning_tokens_total`.
_MIN_SECRET_ENTROPY = 3.0  # bits per character (Shannon)


def marker(rule: str) -> str:
    """The text that replaces a match of ``rule``."""
    return f"[REDACTED:{rule}]"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_secret(value: str) -> bool:
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    return classes >= 2 and _entropy(value) >= _MIN_SECRET_ENTROPY


def _card_ok(match: re.Match[str]) -> bool:
    digits = re.sub(r"[ -]", "", match.group(0))
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _api_key_ok(match: re.Match[str]) -> bool:
    kv = match.group("kv_secret")
    return kv is None or _looks_secret(kv)


_NOT_PHONE = re.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}"  # IPv4 address
    r"|\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:[ .\-]?\d{2,4})?"  # date (and a time's hour)
)


def _phone_ok(match: re.Match[str]) -> bool:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    return 9 <= digits <= 15 and not _NOT_PHONE.fullmatch(text)


_VALIDATORS: dict[str, Callable[[re.Match[str]], bool]] = {
    "api_key": _api_key_ok,
    "card": _card_ok,
    "phone": _phone_ok,
}

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    check: Callable[[re.Match[str]], bool] | None

    @cached_property
    def secret_groups(self) -> tuple[str, ...]:
        """The pattern's groups that are replaced instead of the whole match."""
        return tuple(g for g in self.pattern.groupindex if g.endswith("secret"))

    def apply(self, text: str) -> tuple[str, int]:
        count = 0
        replacement = marker(self.name)
        secret_groups = self.secret_groups

        def substitute(match: re.Match[str]) -> str:
            nonlocal count
            if self.check is not None and not self.check(match):
                return match.group(0)
            count += 1
            for group in secret_groups:
                if match.group(group) is not None:
                    start, end = match.span(group)
                    base = match.start()
                    whole = match.group(0)
                    return whole[: start - base] + replacement + whole[end - base :]
            return replacement

        return self.pattern.sub(substitute, text), count


def _unknown(name: str, hint: str = "") -> ValueError:
    ready = ", ".join(sorted(READY_PATTERNS))
    return ValueError(f"unknown ready pattern {name!r} (ready: {ready}){hint}")


RuleSpec = str | re.Pattern[str] | tuple[str, str | re.Pattern[str]]


def _rule(spec: RuleSpec) -> _Rule:
    if isinstance(spec, tuple):
        name, pattern = spec
        compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
        return _Rule(name, compiled, None)
    if isinstance(spec, re.Pattern):
        return _Rule("custom", spec, None)
    if spec in READY_PATTERNS:
        return _Rule(spec, READY_PATTERNS[spec], _VALIDATORS.get(spec))
    if _IDENTIFIER.fullmatch(spec):
        # A plain word that is not a ready rule is almost surely a typo; compiling it as a
        # regex would silently redact nothing useful.
        raise _unknown(spec, "; pass re.compile(...) to redact a literal word")
    try:
        return _Rule("custom", re.compile(spec), None)
    except re.error as exc:
        raise ValueError(f"invalid redaction pattern {spec!r}: {exc}") from exc


class Redactor:
    """Replaces secrets and personal data in text and counts what it replaced.

    ``patterns``: ready rule names (see ``READY_PATTERNS``), regular expressions (as text or
    compiled; their matches are counted under ``custom``) or ``(name, regex)`` pairs to name
    the rule. ``func``: a function applied last to the text; when it changes the text that
    counts once under ``func``. Raises ``ValueError`` naming a bad pattern.
    """

    def __init__(
        self,
        patterns: Iterable[RuleSpec] = DEFAULT_PATTERNS,
        func: Callable[[str], str] | None = None,
    ) -> None:
        if isinstance(patterns, str | re.Pattern):
            patterns = [patterns]
        self._rules = tuple(_rule(spec) for spec in patterns)
        self._func = func

    @property
    def rules(self) -> tuple[str, ...]:
        """Rule names in the order they apply (``func`` last when given)."""
        names = tuple(rule.name for rule in self._rules)
        return (*names, "func") if self._func is not None else names

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """Return the redacted text and how many replacements each rule made (rules that
        replaced nothing are left out)."""
        counts: dict[str, int] = {}
        for rule in self._rules:
            text, n = rule.apply(text)
            if n:
                counts[rule.name] = counts.get(rule.name, 0) + n
        if self._func is not None:
            new = self._func(text)
            if not isinstance(new, str):
                raise TypeError(f"redaction function returned {type(new).__name__}, not str")
            if new != text:
                counts["func"] = counts.get("func", 0) + 1
                text = new
        return text, counts


def parse_rules(spec: str) -> list[str]:
    """Split a comma list of rule names (``"api_key,email"``, as in a setting) and check
    each is a ready rule; ``ValueError`` names an unknown one."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    for name in names:
        if name not in READY_PATTERNS:
            raise _unknown(name)
    return names
