"""What the fake provider answers: a script of turns, one turn per successful API call.

A turn is :class:`Answer` (final text), :class:`ToolCall` (one tool call) or :class:`Parallel`
(several tool calls in one assistant message). Tool calls without an explicit id get one from
their position among all tool calls of the script, so ids are deterministic, distinct, and the
same when a call is retried: ``call_0001``, ``call_0002``... for OpenAI and ``toolu_0001``...
for Anthropic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Tool-call id prefixes per API flavour.
OPENAI_CALL_PREFIX = "call"
ANTHROPIC_CALL_PREFIX = "toolu"


@dataclass(frozen=True)
class ToolCall:
    """Ask the client to call tool ``name`` with ``arguments``; ``text`` is an optional preamble."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Parallel:
    """Several tool calls in one assistant message, with an optional preamble ``text``."""

    calls: Sequence[ToolCall]
    text: str | None = None


@dataclass(frozen=True)
class Answer:
    """Finish with a plain text answer."""

    text: str


Turn = ToolCall | Parallel | Answer


def arguments_json(arguments: Mapping[str, Any]) -> str:
    """Tool arguments as the compact JSON string OpenAI puts in ``function.arguments``."""
    return json.dumps(dict(arguments), separators=(",", ":"))


@dataclass(frozen=True)
class PlannedCall:
    """A tool call of the script with its 1-based position among all tool calls."""

    ordinal: int
    name: str
    arguments: Mapping[str, Any]
    explicit_id: str | None

    def call_id(self, prefix: str) -> str:
        """The explicit id, or ``{prefix}_{ordinal:04d}``."""
        return self.explicit_id or f"{prefix}_{self.ordinal:04d}"


@dataclass(frozen=True)
class Reply:
    """One assistant turn, resolved from the script: optional text plus tool calls."""

    index: int
    text: str | None
    calls: tuple[PlannedCall, ...]

    @property
    def output_text(self) -> str:
        """What the usage formula counts as generated: text, then each call's name and arguments."""
        pieces = [self.text or ""]
        pieces += [call.name + arguments_json(call.arguments) for call in self.calls]
        return "".join(pieces)


def plan(turns: Iterable[Turn]) -> list[Reply]:
    """Resolve a script into replies, numbering tool calls across the whole script."""
    replies: list[Reply] = []
    ordinal = 0
    for index, turn in enumerate(turns):
        if isinstance(turn, Answer):
            replies.append(Reply(index, turn.text, ()))
            continue
        calls = turn.calls if isinstance(turn, Parallel) else (turn,)
        planned = []
        for call in calls:
            ordinal += 1
            planned.append(PlannedCall(ordinal, call.name, call.arguments, call.id))
        replies.append(Reply(index, turn.text, tuple(planned)))
    return replies
