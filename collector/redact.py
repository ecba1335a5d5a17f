"""Redaction at ingestion: secrets and personal data are replaced before anything is stored.

Applied to a decoded request, before normalization, so every convention is covered the same
way: span names, scope names, span attributes (message content, tool arguments and results
are attributes in every convention), event names and attributes, link attributes, status
messages, log record event names, scope names, bodies and attributes (GenAI ≤1.36 message
events) and resource attributes. Ids, times, kinds and status codes are not text and stay. Text inside JSON-encoded values (the GenAI
``gen_ai.input.messages`` form) is matched in place, a JSON array element by element; the
marker ``[REDACTED:<rule>]`` is plain text, so the JSON stays valid and replay shows the
marker where the text was.

The ``redact`` setting is a comma list of ready rules of :mod:`agentreel.core.redaction`
(``api_key,email,card,phone``) or the path of a TOML rules file::

    patterns = ["api_key", "email"]          # ready rules, applied to every text value

    [[custom]]                               # your own regexes, applied everywhere
    name = "employee_id"                     # counted under this name
    regex = 'EMP-\\d{6}'

    [[attribute]]                            # rules for some attributes only
    key = "user.email"                       # an attribute key, or a glob: "app.secret.*"
    mask = true                              # replace the whole value

    [[attribute]]
    key = "gen_ai.tool.call.arguments"
    patterns = ["card", "phone"]             # extra rules for just these values
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter

from agentreel.core.model import Decoded, Resource
from agentreel.core.redaction import READY_PATTERNS, Redactor, marker, parse_rules

_FILE_KEYS = {"patterns", "custom", "attribute"}
_ATTRIBUTE_KEYS = {"key", "mask", "patterns", "name"}

Counts = dict[str, int]


class RedactionError(ValueError):
    """The redaction rules cannot be read; the message says where and why."""


@dataclass(frozen=True)
class AttributeRule:
    """Rules for the attributes whose key matches ``key`` (an exact key or a glob)."""

    key: str
    name: str
    mask: bool = False
    redactor: Redactor | None = None

    def matches(self, key: str) -> bool:
        return key == self.key or fnmatch.fnmatchcase(key, self.key)


class IngestRedactor:
    """Redacts decoded OTLP requests in place and returns the replacements per rule."""

    def __init__(self, everywhere: Redactor | None, attributes: tuple[AttributeRule, ...] = ()):
        self.everywhere = everywhere
        self.attributes = attributes
        self._counter: Counter | None = None
        self._memos: dict[int, _Memo] = {}
        names = list(everywhere.rules if everywhere else ())
        for rule in attributes:
            names += (
                [rule.name] if rule.mask else list(rule.redactor.rules if rule.redactor else ())
            )
        #: The names replacements are counted under, each once.
        self.rules = tuple(dict.fromkeys(names))

    def counted(self, registry: CollectorRegistry) -> IngestRedactor:
        """Count replacements per rule in ``registry`` (``agentreel_redactions_total``)."""
        self._counter = Counter(
            "agentreel_redactions",
            "Values replaced by redaction at ingestion, per rule.",
            ["rule"],
            registry=registry,
        )
        for rule in self.rules:
            self._counter.labels(rule)  # every rule shows, at 0 until it matches
        return self

    def apply(self, decoded: Decoded, count: bool = True) -> Counts:
        """Redact ``decoded`` in place; the replacements per rule (counted unless ``count``
        is false, as when a spooled request is read again)."""
        counts: Counts = {}
        seen_resources: set[int] = set()

        def resource(res: Resource) -> None:
            if id(res) not in seen_resources:  # shared by the spans of one resource
                seen_resources.add(id(res))
                self._attributes(res.attributes, counts)

        def text(value: str) -> str:
            return self._text(value, self.everywhere, counts)

        for span in decoded.spans:
            span.name, span.scope_name = text(span.name), text(span.scope_name)
            self._attributes(span.attributes, counts)
            for event in span.events:
                event.name = text(event.name)
                self._attributes(event.attributes, counts)
            for link in span.links:
                self._attributes(link["attributes"], counts)
            span.status_message = text(span.status_message)
            resource(span.resource)
        for record in decoded.logs:
            record.event_name, record.scope_name = text(record.event_name), text(record.scope_name)
            self._attributes(record.attributes, counts)
            record.body = self._value(record.body, self.everywhere, counts)
            resource(record.resource)
        if count and self._counter is not None:
            for rule, n in counts.items():
                self._counter.labels(rule).inc(n)
        return counts

    def _attributes(self, attributes: dict[str, Any], counts: Counts) -> None:
        for key, value in attributes.items():
            rule = self._rule_for(key) if self.attributes else None
            if rule is not None and rule.mask:
                attributes[key] = marker(rule.name)
                counts[rule.name] = counts.get(rule.name, 0) + 1
                continue
            value = self._value(value, self.everywhere, counts)
            if rule is not None:
                value = self._value(value, rule.redactor, counts)
            attributes[key] = value

    def _rule_for(self, key: str) -> AttributeRule | None:
        return next((r for r in self.attributes if r.matches(key)), None)

    def _value(self, value: Any, redactor: Redactor | None, counts: Counts) -> Any:
        if redactor is None:
            return value
        if isinstance(value, str):
            return self._text(value, redactor, counts)
        if isinstance(value, list):
            return [self._value(v, redactor, counts) for v in value]
        if isinstance(value, dict):
            return {k: self._value(v, redactor, counts) for k, v in value.items()}
        return value

    def _text(self, text: str, redactor: Redactor | None, counts: Counts) -> str:
        if redactor is None or not text:
            return text
        memo = self._memos.get(id(redactor))
        if memo is None:
            memo = self._memos[id(redactor)] = _Memo(redactor)
        if len(text) >= _SPLIT_CHARS and text.lstrip()[:1] == "[":
            split = _by_element(text, memo, counts)
            if split is not None:
                return split
        return memo.redact(text, counts)


#: A JSON array this long is redacted element by element (see :func:`_by_element`).
_SPLIT_CHARS = 256
#: Characters of text the memo of one rule set keeps before it starts afresh.
MEMO_CHARS = 16 << 20


class _Memo:
    """Redactions of texts seen recently. An agent's spans repeat the conversation so far,
    so the same messages and tool results arrive again and again: each is matched once.

    Used from the ingest thread and, for spooled requests, the writer's: single dict
    operations are atomic, and a lost entry only costs matching that text again."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.seen: dict[str, tuple[str, Counts]] = {}
        self.chars = 0

    def redact(self, text: str, counts: Counts) -> str:
        known = self.seen.get(text)
        if known is None:
            known = self.redactor.redact(text)
            if self.chars + len(text) > MEMO_CHARS:
                # Starting afresh is simpler than LRU and as good for conversations, which
                # repeat recent messages.
                self.seen, self.chars = {}, 0
            self.seen[text] = known
            self.chars += len(text)
        for rule, n in known[1].items():
            counts[rule] = counts.get(rule, 0) + n
        return known[0]


def _by_element(text: str, memo: _Memo, counts: Counts) -> str | None:
    """Redact a JSON array (``gen_ai.input.messages``: the whole conversation so far) one
    element at a time, so each message is matched once however often it is repeated.
    The text comes back unchanged when nothing matched; None when it is not a JSON array
    or an element no longer parses once redacted (the caller then redacts the whole text)."""
    try:
        elements = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(elements, list):
        return None
    found: Counts = {}
    changed = False
    for i, element in enumerate(elements):
        raw = orjson.dumps(element).decode()
        new = memo.redact(raw, found)
        if new != raw:
            try:
                elements[i] = orjson.loads(new)
            except orjson.JSONDecodeError:
                return None  # a custom rule matched across JSON syntax
            changed = True
    for rule, n in found.items():
        counts[rule] = counts.get(rule, 0) + n
    return orjson.dumps(elements).decode() if changed else text


def from_setting(spec: str) -> IngestRedactor | None:
    """The redactor the ``redact`` setting describes; None when it is empty.
    RedactionError names the bad rule (and the file) otherwise."""
    spec = spec.strip()
    if not spec:
        return None
    if spec.endswith(".toml") or "/" in spec or Path(spec).is_file():
        return _from_file(Path(spec))
    try:
        return IngestRedactor(Redactor(parse_rules(spec)))
    except ValueError as exc:
        raise RedactionError(f"{exc}; or give the path of a rules file (.toml)") from None


def _from_file(path: Path) -> IngestRedactor:
    try:
        rules = tomllib.loads(path.read_text())
    except OSError as exc:
        raise RedactionError(f"cannot read the redaction rules {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RedactionError(f"{path} is not valid TOML: {exc}") from None

    def fail(why: str) -> RedactionError:
        return RedactionError(f"redaction rules {path}: {why}")

    unknown = set(rules) - _FILE_KEYS
    if unknown:
        raise fail(f"unknown key {sorted(unknown)[0]!r}; known: {', '.join(sorted(_FILE_KEYS))}")
    specs: list[Any] = list(_names(rules.get("patterns", []), "patterns", fail))
    for i, custom in enumerate(_tables(rules.get("custom", []), "custom", fail)):
        if set(custom) != {"name", "regex"}:
            raise fail(f"[[custom]] #{i + 1} needs exactly name and regex")
        try:
            specs.append((str(custom["name"]), re.compile(str(custom["regex"]))))
        except re.error as exc:
            raise fail(f"[[custom]] #{i + 1}: invalid redaction pattern: {exc}") from None
    attributes = []
    for i, table in enumerate(_tables(rules.get("attribute", []), "attribute", fail)):
        where = f"[[attribute]] #{i + 1}"
        if set(table) - _ATTRIBUTE_KEYS or "key" not in table:
            raise fail(f"{where} takes key and mask or patterns (and an optional name)")
        mask = bool(table.get("mask", False))
        names = _names(table.get("patterns", []), f"{where} patterns", fail)
        if mask == bool(names):
            raise fail(f"{where} needs either mask = true or a list of patterns")
        attributes.append(
            AttributeRule(
                key=str(table["key"]),
                name=str(table.get("name", "attribute")),
                mask=mask,
                redactor=_redactor(names, fail) if names else None,
            )
        )
    return IngestRedactor(_redactor(specs, fail) if specs else None, tuple(attributes))


def _redactor(specs: list[Any], fail: Callable[[str], RedactionError]) -> Redactor:
    try:
        return Redactor(specs)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _names(value: Any, where: str, fail: Callable[[str], RedactionError]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"{where} must be a list of rule names")
    for name in value:
        if name not in READY_PATTERNS:
            raise fail(f"{where}: unknown ready pattern {name!r}; use a [[custom]] regex")
    return value


def _tables(value: Any, where: str, fail: Callable[[str], RedactionError]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise fail(f"{where} must be written as [[{where}]] tables")
    return value
