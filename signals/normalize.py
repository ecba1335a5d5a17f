"""Normalizers for the model-free groundedness check: the same fact written two ways
(``1200000`` and "1.2 million", ``0.03`` and "3%", ``4999`` cents and "$49.99",
``May 31 08:14:54 2024 GMT`` and "May 31, 2024") reduces to one comparable value.

A number is kept with the precision it was written at, so "1.2 million" matches 1,234,567
(the answer rounded) but "1,243" does not match 1,234 (the answer is wrong)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
MONTH = {m[:3]: i for i, m in enumerate(_MONTHS, 1)} | {m: i for i, m in enumerate(_MONTHS, 1)}
MONTH["sept"] = 9
_MONTH_NAMES = "|".join(sorted(MONTH, key=len, reverse=True))
_DAYS = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+"

#: Scale words and suffixes: "1.2 million", "1.2M", "58.2k", "3bn".
SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "million": 1e6,
    "mn": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
#: Units whose values are commonly restated in another unit: the factors an evidence value
#: may be multiplied by to reach the answer's (cents → dollars, ms → s, bytes → GB, ...).
UNIT_FACTORS: tuple[float, ...] = (1.0, 0.01, 100.0, 1e-3, 1e3, 1e-6, 1e6, 1e-9, 1 / 60)
UNIT_FACTORS += (1 / 3600, 60.0, 3600.0, 1 / 86400, 1 / 1024, 1 / 1024**2, 1 / 1024**3, 1024.0)
UNIT_WORDS = (
    "ms|msec|milliseconds?|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|weeks?|"
    "kb|mb|gb|tb|kib|mib|gib|bytes?|km|m|meters?|metres?|kg|g|grams?|cents?|"
    "usd|eur|gbp|dollars?|euros?|pounds?|°c|°f|°|degrees?|fahrenheit|celsius"
)

#: Units of one dimension with their size in its base unit (bytes: decimal and binary), so
#: a value said in one is restated in another only by the factor between them: 90 from
#: ``ttl_seconds`` is "1.5 minutes", never "90 minutes".
_SIZES: dict[str, tuple[str, tuple[float, ...]]] = {
    "ns": ("time", (1e-9,)),
    "nanos": ("time", (1e-9,)),
    "us": ("time", (1e-6,)),
    "µs": ("time", (1e-6,)),
    "micros": ("time", (1e-6,)),
    "ms": ("time", (1e-3,)),
    "msec": ("time", (1e-3,)),
    "millis": ("time", (1e-3,)),
    "millisecond": ("time", (1e-3,)),
    "s": ("time", (1.0,)),
    "sec": ("time", (1.0,)),
    "second": ("time", (1.0,)),
    "min": ("time", (60.0,)),
    "minute": ("time", (60.0,)),
    "h": ("time", (3600.0,)),
    "hr": ("time", (3600.0,)),
    "hour": ("time", (3600.0,)),
    "day": ("time", (86400.0,)),
    "week": ("time", (604800.0,)),
    "byte": ("bytes", (1.0,)),
    "kb": ("bytes", (1e3, 1024.0)),
    "kib": ("bytes", (1024.0,)),
    "mb": ("bytes", (1e6, 1024.0**2)),
    "mib": ("bytes", (1024.0**2,)),
    "gb": ("bytes", (1e9, 1024.0**3)),
    "gib": ("bytes", (1024.0**3,)),
    "tb": ("bytes", (1e12, 1024.0**4)),
    "tib": ("bytes", (1024.0**4,)),
}
_KEY_UNIT = re.compile(
    r"(?:^|[_\s.-])(ns|nanos|us|µs|micros|ms|msec|millis|s|secs?|seconds|mins?|minutes|"
    r"hours?|hrs?|days|bytes|kb|mb|gb|tb|kib|mib|gib|tib)$|^(?:size|file_?size|content_?length)$",
    re.I,
)


def measure(word: str) -> tuple[str, tuple[float, ...]] | None:
    """The dimension and size(s) of a unit word ("ms", "minutes", "GiB"), None if unknown."""
    w = word.lower().strip()
    if w in _SIZES:
        return _SIZES[w]
    if w.endswith("s") and w[:-1] in _SIZES:
        return _SIZES[w[:-1]]
    return None


def key_unit(key: str) -> str:
    """The unit a field's name gives its value (``ttl_seconds``, ``duration_us``, ``size``)."""
    m = _KEY_UNIT.search(key.strip())
    if not m:
        return ""
    return (m.group(1) or "byte").lower()


def conversions(evidence_unit: str, claim_unit: str) -> tuple[float, ...] | None:
    """The factors that turn a value in ``evidence_unit`` into ``claim_unit``: empty when the
    two measure different things, None when either unit is unknown."""
    ev, said = measure(evidence_unit), measure(claim_unit)
    if ev is None or said is None:
        return None
    if ev[0] != said[0]:
        return ()
    return tuple({a / b for a in ev[1] for b in said[1]})


_APPROX = re.compile(
    r"(?:about|around|roughly|approximately|approx\.?|nearly|almost|close to|some|~|≈)\s*[$€£¥]?\s*$",
    re.I,
)
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
#: A number as written in prose: currency sign, digits, scale, percent or unit.
NUMBER = re.compile(
    rf"(?P<cur>[$€£¥])?\s?(?<![\w.])(?P<num>{_NUM})"
    r"(?:\s?(?P<scale>k|mm|m|bn|b|t|thousand|million|mn|billion|trillion)\b)?"
    rf"(?:\s?(?P<pct>%|percent\b|per cent\b|pct\b)|\s?(?P<unit>{UNIT_WORDS})\b)?",
    re.I,
)
VERSION = re.compile(
    r"(?<![\w.])(?:v|version\s?)?(\d+(?:\.\d+){2,3})(?![\w.]*\d)|(?:\bv|\bversion\s)(\d+\.\d+)\b",
    re.I,
)
ISO_STAMP = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?\b"
)
_TIME = r"(?:\s*(?:at\s+)?(\d{1,2}):(\d{2})(?::\d{2})?\s*(am|pm)?)?"
DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (ISO_STAMP, "ymd"),
    (re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b"), "ymd"),
    (re.compile(r"(?<![\w-])(\d{4})-(\d{2})(?![\w-])"), "ym"),  # "month": "2024-04"
    # May 31 08:14:54 2024 GMT (openssl, syslog-ish): time between day and year
    (
        re.compile(
            rf"\b(?:{_DAYS})?({_MONTH_NAMES})\.?\s+(\d{{1,2}})\s+(\d{{1,2}}):(\d{{2}})(?::\d{{2}})?\s+(\d{{4}})\b",
            re.I,
        ),
        "mdHMy",
    ),
    (
        re.compile(
            rf"\b(?:{_DAYS})?({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b{_TIME}",
            re.I,
        ),
        "mdyHMp",
    ),
    (
        re.compile(
            rf"\b(?:{_DAYS})?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b{_TIME}",
            re.I,
        ),
        "dmyHMp",
    ),
    # 22/Feb/2024:18:05:31 +0000 (Apache/nginx access logs)
    (
        re.compile(rf"\b(\d{{1,2}})/({_MONTH_NAMES})/(\d{{4}})(?::(\d{{2}}):(\d{{2}}))?", re.I),
        "dMyHM",
    ),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "slash"),
    (re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{4}})\b", re.I), "my"),
    (
        re.compile(
            rf"\b(?:{_DAYS})?({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![:\d])", re.I
        ),
        "md",
    ),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\b", re.I), "dm"),
)
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?!\d)", re.I)
CLOCK_12 = re.compile(r"\b(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)", re.I)
_RANGE_END = re.compile(
    r"\s*(?:to|until|till|-|–|—)\s*\d{1,2}(?::\d{2})?\s*(am|pm|a\.m\.|p\.m\.)", re.I
)
#: Epoch seconds and milliseconds between 2000 and 2100.
EPOCH_S = (946_684_800, 4_102_444_800)


@dataclass(frozen=True)
class Number:
    """A value and the unit its last written digit stands for (its precision)."""

    value: float
    unit: float
    percent: bool = False
    currency: bool = False
    measure: str = ""  # unit word, lower case
    approximate: bool = False  # "about", "around", "roughly", "~": 5% either way

    def matches(self, other: float, slack: float = 0.0) -> bool:
        """``other`` rounds or truncates to this number as written."""
        if self.approximate:
            slack = max(slack, 0.05 * abs(self.value))
        tolerance = max(self.unit / 2, slack) + 1e-9 * max(1.0, abs(other))
        if abs(other - self.value) <= tolerance:
            return True
        return 0 <= abs(other) - abs(self.value) < self.unit and self.unit > 1


def parse_number(match: re.Match[str]) -> Number | None:
    """The :class:`Number` of one :data:`NUMBER` match, None when it is no number."""
    raw = match.group("num").replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    scale_word = (match.group("scale") or "").lower()
    unit_word = (match.group("unit") or "").lower()
    # "5 m" is ambiguous (metres or million): a scale only right after a currency or a decimal
    scale = SCALES.get(scale_word, 1.0)
    if (
        scale_word in ("m", "b", "t")
        and not match.group("cur")
        and "." not in raw
        and not re.search(r"\d[mbtMBT]\b", match.group(0))
    ):
        scale, unit_word = 1.0, unit_word or scale_word
    currency = (
        bool(match.group("cur"))
        or unit_word in ("usd", "eur", "gbp")
        or (unit_word.rstrip("s") in ("dollar", "euro", "pound", "cent"))
    )
    before = match.string[max(0, match.start() - 20) : match.start()]
    return Number(
        approximate=bool(_APPROX.search(before)),
        value=value * scale,
        unit=10.0**-decimals * scale,
        percent=bool(match.group("pct")),
        currency=currency,
        measure=unit_word,
    )


def inside_word(text: str, start: int, end: int) -> bool:
    """The digits at ``text[start:end]`` are part of an id or word (ORD-88213, X-1, 3f2a)."""
    return bool(re.match(r"[\w-]", text[end : end + 1]) or re.search(r"\w[-_/#]$", text[:start]))


def number_of(text: str) -> float | None:
    """A plain number string as a float (``"1,200"``, ``"3.5"``), None otherwise."""
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class When:
    """A date or a time of day, with only the parts that were written."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None

    def key(self) -> str:
        return "-".join("?" if p is None else f"{p:02d}" for p in self.parts())

    def parts(self) -> tuple[int | None, ...]:
        return (self.year, self.month, self.day, self.hour, self.minute)

    def within(self, other: When) -> bool:
        """Every part written here agrees with ``other`` (which may say more)."""
        return all(a is None or a == b for a, b in zip(self.parts(), other.parts(), strict=True))


def _hour(h: str | None, ampm: str | None) -> int | None:
    if h is None:
        return None
    hour = int(h)
    if ampm:
        pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return hour


def _when(groups: tuple[str | None, ...], shape: str) -> When | None:
    g = list(groups)
    try:
        if shape == "ymd":
            y, m, d = int(g[0] or 0), int(g[1] or 0), int(g[2] or 0)
            hh = int(g[3]) if len(g) > 3 and g[3] else None
            mm = int(g[4]) if len(g) > 4 and g[4] else None
            date(y, m, d)
            return When(y, m, d, hh, mm)
        if shape == "mdHMy":
            m, d, y = MONTH[str(g[0]).lower()], int(g[1] or 0), int(g[4] or 0)
            date(y, m, d)
            return When(y, m, d, int(g[2] or 0), int(g[3] or 0))
        if shape in ("mdyHMp", "dmyHMp"):
            if shape == "mdyHMp":
                m, d = MONTH[str(g[0]).lower()], int(g[1] or 0)
            else:
                d, m = int(g[0] or 0), MONTH[str(g[1]).lower()]
            y = int(g[2] or 0)
            date(y, m, d)
            mm = int(g[4]) if g[4] else None
            return When(y, m, d, _hour(g[3], g[5]), mm)
        if shape == "dMyHM":
            d, m, y = int(g[0] or 0), MONTH[str(g[1]).lower()], int(g[2] or 0)
            date(y, m, d)
            return When(y, m, d, int(g[3]) if g[3] else None, int(g[4]) if g[4] else None)
        if shape == "slash":
            a, b, y = int(g[0] or 0), int(g[1] or 0), int(g[2] or 0)
            m, d = (b, a) if a > 12 else (a, b)  # US order unless the first cannot be a month
            date(y, m, d)
            return When(y, m, d)
        if shape == "ym":
            y, m = int(g[0] or 0), int(g[1] or 0)
            return When(y, m) if 1 <= m <= 12 else None
        if shape == "my":
            return When(int(g[1] or 0), MONTH[str(g[0]).lower()])
        if shape == "md":
            m, d = MONTH[str(g[0]).lower()], int(g[1] or 0)
            date(2000, m, d)
            return When(None, m, d)
        if shape == "dm":
            d, m = int(g[0] or 0), MONTH[str(g[1]).lower()]
            date(2000, m, d)
            return When(None, m, d)
    except (ValueError, KeyError):
        return None
    return None


def dates(text: str) -> list[tuple[int, int, When]]:
    """``(start, end, when)`` of each date in ``text``; spans do not overlap."""
    out: list[tuple[int, int, When]] = []
    for pattern, shape in DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e, _ in out):
                continue
            found = _when(m.groups(), shape)
            if found is not None:
                out.append((m.start(), m.end(), found))
    return sorted(out, key=lambda t: t[0])


def epoch(value: float) -> When | None:
    """A number that reads as epoch seconds or milliseconds (2000–2100), as a date-time."""
    seconds = value / 1000 if value > EPOCH_S[1] else value
    if not EPOCH_S[0] <= seconds <= EPOCH_S[1] or value != int(value):
        return None
    moment = datetime.fromtimestamp(seconds, UTC)
    return When(moment.year, moment.month, moment.day, moment.hour, moment.minute)


def clock_times(text: str) -> list[tuple[int, int, When]]:
    """Times of day ("08:14", "8:14 pm", "5pm") as hour and minute."""
    out = []
    for m in CLOCK.finditer(text):
        meridiem = m.group(4)
        if not meridiem:  # "from 3:30 to 4:30 pm": the range's am/pm holds for both ends
            ahead = _RANGE_END.match(text, m.end())
            meridiem = ahead.group(1) if ahead else None
        hour = _hour(m.group(1), meridiem)
        if hour is not None and hour < 24 and int(m.group(2)) < 60:
            out.append((m.start(), m.end(), When(hour=hour, minute=int(m.group(2)))))
    for m in CLOCK_12.finditer(text):
        hour = _hour(m.group(1), m.group(2))
        if hour is not None and hour < 24:
            out.append((m.start(), m.end(), When(hour=hour, minute=0)))
    return out


def versions(text: str) -> list[tuple[int, int, str]]:
    """Version strings (``5.6.2``, ``v2.1``) whole, as written without the ``v``."""
    return [(m.start(), m.end(), m.group(1) or m.group(2)) for m in VERSION.finditer(text)]


def same_version(claim: str, evidence: str) -> bool:
    """Compared whole: 5.6.2 ≠ 5.6.0; "5.6" matches "5.6.0" (trailing zeros unsaid)."""
    a, b = claim.split("."), evidence.split(".")
    width = max(len(a), len(b))
    return a + ["0"] * (width - len(a)) == b + ["0"] * (width - len(b))
