"""Groundedness without a model: the checkable claims of an answer — amounts, numbers,
percentages, dates, ids and quoted names — each looked up in the run's evidence (tool
results and the context the model was given). A claim found in none of it is unsupported.

Deliberately literal: a number the model derived (a sum of two tool results) is reported
as unsupported, which is what a reviewer wants to see first. Numbers below 10 without a
unit are not claims (step counts, list positions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

_MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july")
_MONTHS += ("august", "september", "october", "november", "december")
_MONTH = {m[:3]: i for i, m in enumerate(_MONTHS, 1)} | {m: i for i, m in enumerate(_MONTHS, 1)}
_MONTH_NAMES = "|".join(sorted(_MONTH, key=len, reverse=True))

_DATE_PATTERNS = (
    re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"),  # 2026-03-15
    re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I),
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b", re.I),
    re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"),  # 03/15/2026 (US order)
)
_AMOUNT = re.compile(
    r"(?:[$€£¥]\s?(\d[\d,]*(?:\.\d+)?))|(?:\b(\d[\d,]*(?:\.\d+)?)\s?(?:USD|EUR|GBP|dollars?|euros?)\b)",
    re.I,
)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?%")
_NUMBER = re.compile(r"(?<![\w.-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w-])")
# Letters and digits together (ORD-88213, INV_2026_001, 3f2a9c1e): what systems name things by.
_ID = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_-]{3,}\b")
_QUOTED = re.compile(r"[\"“”]([^\"“”\n]{2,80})[\"“”]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Claim:
    kind: str  # amount, percent, number, date, id, quoted
    text: str  # as written in the answer
    key: str  # normalized form compared with the evidence


@dataclass(frozen=True)
class Verdict:
    claims: list[Claim]
    unsupported: list[Claim]

    @property
    def grounded(self) -> bool:
        return not self.unsupported


def _number_key(raw: str) -> str:
    value = float(raw.replace(",", ""))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _date_key(match: re.Match[str], pattern_index: int) -> str | None:
    a, b, c = match.groups()
    try:
        if pattern_index == 0:
            moment = date(int(a), int(b), int(c))
        elif pattern_index == 1:
            moment = date(int(c), _MONTH[a.lower()], int(b))
        elif pattern_index == 2:
            moment = date(int(c), _MONTH[b.lower()], int(a))
        else:
            moment = date(int(c), int(a), int(b))
    except (ValueError, KeyError):
        return None
    return moment.isoformat()


def claims(text: str) -> list[Claim]:
    """The checkable claims in ``text``, each once, in order of appearance."""
    found: list[tuple[int, Claim]] = []
    taken: list[tuple[int, int]] = []  # spans already claimed, so 15 in $15 is one claim

    def add(start: int, end: int, claim: Claim) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, claim))

    for index, pattern in enumerate(_DATE_PATTERNS):
        for m in pattern.finditer(text):
            key = _date_key(m, index)
            if key:
                add(m.start(), m.end(), Claim("date", m.group(0), key))
    for m in _AMOUNT.finditer(text):
        add(m.start(), m.end(), Claim("amount", m.group(0), _number_key(m.group(1) or m.group(2))))
    for m in _PERCENT.finditer(text):
        add(m.start(), m.end(), Claim("percent", m.group(0), _number_key(m.group(1))))
    for m in _QUOTED.finditer(text):
        inner = _SPACE.sub(" ", m.group(1).strip()).lower()
        add(m.start(), m.end(), Claim("quoted", m.group(0), inner))
    for m in _ID.finditer(text):
        add(m.start(), m.end(), Claim("id", m.group(0), m.group(0).lower()))
    for m in _NUMBER.finditer(text):
        key = _number_key(m.group(0))
        if float(key) < 10 and not m.group(2):
            continue
        add(m.start(), m.end(), Claim("number", m.group(0), key))
    seen: set[tuple[str, str]] = set()
    out = []
    for _, claim in sorted(found, key=lambda f: f[0]):
        if (claim.kind, claim.key) not in seen:
            seen.add((claim.kind, claim.key))
            out.append(claim)
    return out


class Evidence:
    """What a run's claims may be checked against, indexed once."""

    def __init__(self, texts: Iterable[str]) -> None:
        joined = "\n".join(texts)
        self.text = _SPACE.sub(" ", joined).lower()
        self.numbers = {_number_key(m.group(0)) for m in _NUMBER.finditer(joined)}
        self.numbers |= {_number_key(m.group(1)) for m in _PERCENT.finditer(joined)}
        self.dates = {
            key
            for i, p in enumerate(_DATE_PATTERNS)
            for m in p.finditer(joined)
            if (key := _date_key(m, i))
        }
        self.dates |= {_iso_date(m.group(0)) for m in _ISO_STAMP.finditer(joined)}

    def supports(self, claim: Claim) -> bool:
        if claim.kind in ("amount", "percent", "number"):
            return claim.key in self.numbers
        if claim.kind == "date":
            return claim.key in self.dates
        return claim.key in self.text


_ISO_STAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def _iso_date(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return stamp[:10]


def check(answer: str, evidence: Iterable[str]) -> Verdict:
    """The answer's claims and those of them no evidence text supports."""
    found = claims(answer)
    index = Evidence(evidence)
    return Verdict(found, [c for c in found if not index.supports(c)])
