"""Context diffs: how an LLM call's context window changed since the call before it.

:func:`context_diff` aligns two calls' input messages (each message as canonical JSON, keys
sorted, hashed) with :class:`difflib.SequenceMatcher`, and names each change: ``appended``
(new messages at the end, the normal growth of a conversation), ``inserted`` (new messages
before the end), ``removed`` (dropped without replacement: the window was ``truncated``),
``changed`` (a message replaced in place: ``edited``; several replaced by fewer:
``summarized``). System instructions (the ``gen_ai.system_instructions`` slot or a
``system`` message) and tool definitions (added, removed, modified by name) are compared
apart. Message indexes are 0-based positions in ``input_messages``.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from .memo import Memo
from .model import LLMCall, Window

__all__ = [
    "canonical_json",
    "context_diff",
    "context_diffs",
    "fingerprint",
    "json_or_text",
    "text_of",
    "without_call_ids",
]

#: Longest rendering of a value inside a summary string.
SUMMARY_VALUE_CHARS = 80


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys: equal values give equal bytes whatever their key order."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


def fingerprint(value: Any) -> str:
    """A short hash of :func:`canonical_json` of ``value``."""
    return hashlib.blake2b(canonical_json(value), digest_size=8).hexdigest()


def without_call_ids(value: Any) -> Any:
    """Messages without the ids of tool calls and responses, which providers make up per
    run: two runs that did the same thing then compare equal."""
    if isinstance(value, list):
        return [without_call_ids(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("parts"), list):
        parts = [
            {k: v for k, v in p.items() if k != "id"}
            if isinstance(p, dict) and p.get("type") in ("tool_call", "tool_call_response")
            else p
            for p in value["parts"]
        ]
        return {**value, "parts": parts}
    return value


def json_or_text(value: Any) -> Any:
    """JSON text parsed (so it compares by value: whitespace and key order aside); other
    text, and values that are not text, as they are."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


# --- step to step --------------------------------------------------------------------------


def context_diff(
    previous: LLMCall | None, current: LLMCall, call: int, memo: Memo | None = None
) -> dict[str, Any]:
    """How call ``call`` (1-based) differs from ``previous`` (None: from an empty window).

    Both are LLM calls as :func:`agentreel.replay.windows.llm_calls` returns them; ``memo``
    keeps message hashes between the calls of one run.
    """
    memo = memo or Memo()
    prev = previous.window if previous is not None else Window(input_messages=[])
    now = current.window
    before, after = prev.input_messages, now.input_messages
    comparable = isinstance(before, list) and isinstance(after, list)
    changes: list[dict[str, Any]] = []
    kept, labels = 0, list[str]()
    if isinstance(before, list) and isinstance(after, list):
        outputs = {fingerprint(_no_reason(m)) for m in prev.output_messages or []}
        changes, kept, labels = _align(before, after, outputs, memo)
    counts: dict[str, Any] = {"before": _len(before), "after": _len(after), "kept": kept}
    counts |= {op: sum(c["op"] == op for c in changes) for op in _OPS}
    system = _system(prev.system_instructions, now.system_instructions, changes, comparable)
    tools = _tools(prev.tool_definitions, now.tool_definitions, previous is None)
    model: dict[str, Any] = {"before": _model(previous), "after": _model(current)}
    model["changed"] = previous is not None and model["before"] != model["after"]
    for label, hit in (
        ("system_instructions_changed", system["changed"]),
        ("tool_definitions_changed", tools["changed"]),
        ("model_changed", model["changed"]),
    ):
        if hit:
            labels.append(label)
    if comparable and not labels:
        labels.append("unchanged")
    return {
        "call": call,
        "previous_call": call - 1 if previous is not None else None,
        "span_id": current.span_id,
        "previous_span_id": None if previous is None else previous.span_id,
        "model": model,
        "messages": {**counts, "comparable": comparable},
        "changes": changes,
        "system_instructions": system,
        "tool_definitions": tools,
        "labels": labels,
        "summary": _context_summary(call, previous is not None, counts, labels, comparable),
        "missing": [
            f"{who} input messages were not captured"
            for who, value in (("the previous call's", before), ("this call's", after))
            if value is None
        ],
    }


def context_diffs(calls: list[LLMCall]) -> list[dict[str, Any]]:
    """:func:`context_diff` of every call of a run against the one before it, in call order
    (call 1 against an empty window)."""
    memo = Memo()
    return [
        context_diff(calls[n - 2] if n > 1 else None, call, n, memo)
        for n, call in enumerate(calls, 1)
    ]


_OPS = ("appended", "inserted", "removed", "changed")


def _model(call: LLMCall | None) -> str | None:
    return None if call is None else str(call.model or call.request_model or "")


def _align(
    before: list[Any], after: list[Any], outputs: set[str], memo: Memo
) -> tuple[list[dict[str, Any]], int, list[str]]:
    a, b = [_hash(memo, m) for m in before], [_hash(memo, m) for m in after]
    changes: list[dict[str, Any]] = []
    labels: set[str] = set()
    kept = 0
    opcodes: Sequence[tuple[str, int, int, int, int]]
    if b[: len(a)] == a:  # the usual growth: the old window, then new messages at its end
        opcodes = [("equal", 0, len(a), 0, len(a)), ("insert", len(a), len(a), len(a), len(b))]
    else:
        opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            kept += i2 - i1
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            changes.append(_changed(i1 + k, before[i1 + k], j1 + k, after[j1 + k]))
        if paired:
            labels.add("summarized" if i2 - i1 > j2 - j1 else "edited")
        for i in range(i1 + paired, i2):
            changes.append(
                {
                    "op": "removed",
                    "previous_index": i,
                    "role": _role(before[i]),
                    "message": before[i],
                }
            )
            if tag == "delete":
                labels.add("truncated")
        at_end = j2 == len(b) and i2 == len(a)
        for j in range(j1 + paired, j2):
            op = "appended" if at_end else "inserted"
            labels.add(op)
            changes.append(
                {
                    "op": op,
                    "index": j,
                    "role": _role(after[j]),
                    "message": after[j],
                    "from_previous_output": b[j] in outputs,
                }
            )
    order = ("appended", "inserted", "truncated", "summarized", "edited")
    return changes, kept, [label for label in order if label in labels]


def _hash(memo: Memo, message: Any) -> str:
    return str(memo.get("fingerprint", id(message), message, fingerprint, message))


def _changed(i: int, old: Any, j: int, new: Any) -> dict[str, Any]:
    return {
        "op": "changed",
        "previous_index": i,
        "index": j,
        "role": _role(new),
        "previous_role": _role(old),
        "before": old,
        "after": new,
        "text_diff": _text_diff(text_of(old), text_of(new)),
    }


def _system(
    old: Any, new: Any, changes: list[dict[str, Any]], messages_comparable: bool
) -> dict[str, Any]:
    # With both windows captured, an absent slot means no system instructions were sent.
    comparable = messages_comparable or (old is not None and new is not None)
    out: dict[str, Any] = {"changed": False, "comparable": comparable, "where": None}
    if comparable and fingerprint(old) != fingerprint(new):
        diff = _text_diff(text_of(old), text_of(new))
        out.update(changed=True, where="system_instructions", before=old, after=new, text_diff=diff)
        return out
    # Conventions that send the system prompt as a message: look at the system messages.
    olds = [c.get("before", c.get("message")) for c in changes if _was_system(c)]
    news = [c.get("after", c.get("message")) for c in changes if _is_system(c)]
    if olds or news:
        diff = _text_diff(text_of(olds), text_of(news))
        out.update(changed=True, where="messages", before=olds, after=news, text_diff=diff)
    return out


def _was_system(change: dict[str, Any]) -> bool:
    role = change["previous_role"] if change["op"] == "changed" else change["role"]
    return change["op"] in ("changed", "removed") and role == "system"


def _is_system(change: dict[str, Any]) -> bool:
    return change["op"] != "removed" and bool(change["role"] == "system")


def _tools(old: Any, new: Any, first: bool) -> dict[str, Any]:
    # Many instrumentors never record the tools offered: compare only what both calls have.
    comparable = new is not None and (old is not None or first)
    out: dict[str, Any] = {"changed": False, "comparable": comparable}
    out |= {"added": [], "removed": [], "modified": []}
    if not comparable or fingerprint(old) == fingerprint(new):
        return out
    olds, news = _by_name(old or []), _by_name(new)
    out["changed"] = True
    out["added"] = [n for n in news if n not in olds]
    out["removed"] = [n for n in olds if n not in news]
    out["modified"] = [
        n for n in news if n in olds and fingerprint(olds[n]) != fingerprint(news[n])
    ]
    return out


def _by_name(tools: Any) -> dict[str, Any]:
    if not isinstance(tools, list):
        return {"(tool definitions)": tools}
    out = {}
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        name = tool.get("name") if isinstance(tool, dict) else None
        name = name or (fn.get("name") if isinstance(fn, dict) else None) or f"#{i}"
        out[str(name)] = tool
    return out


def _context_summary(
    call: int, has_prev: bool, counts: dict[str, Any], labels: list[str], comparable: bool
) -> str:
    head = f"call {call} vs call {call - 1}" if has_prev else f"call {call} (first call)"
    parts = [
        f"{counts[op]} message(s) {op}"
        for op in ("appended", "inserted", "removed", "changed")
        if counts[op]
    ]
    if "truncated" in labels:
        parts.append("context truncated")
    if "summarized" in labels:
        parts.append("context summarized")
    parts += [label.replace("_", " ") for label in labels if label.endswith("_changed")]
    if not comparable:
        parts.insert(0, "input messages not captured on both sides")
    return f"{head}: {'; '.join(parts) if parts else 'input unchanged'}"


def _no_reason(message: Any) -> Any:
    """An output message as it would be sent back: finish_reason belongs to the response."""
    if isinstance(message, dict):
        return {k: v for k, v in message.items() if k != "finish_reason"}
    return message


def _len(messages: Any) -> int | None:
    return len(messages) if isinstance(messages, list) else None


def _role(message: Any) -> str:
    return str(message.get("role", "")) if isinstance(message, dict) else ""


def text_of(value: Any) -> str:
    """The text a message, a list of parts or a list of messages holds."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(text_of(v) for v in value)
    if isinstance(value, dict):
        if isinstance(value.get("parts"), list):
            return text_of(value["parts"])
        content = value.get("content", value.get("response", value.get("arguments")))
        return content if isinstance(content, str) else orjson.dumps(content, default=str).decode()
    return "" if value is None else str(value)


def _text_diff(old: str, new: str) -> list[str]:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), "before", "after", n=1, lineterm=""
    )
    return list(lines)[2:]  # without the ---/+++ header
