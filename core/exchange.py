"""One LLM exchange in the GenAI form, whatever the provider: what was asked (:class:`Request`),
what came back (:class:`Response`) and the tokens it took (:class:`Usage`), with the small
helpers the provider converters (:mod:`.openai_api`, :mod:`.anthropic_api`) share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Usage:
    """Token counts as the provider reported them (the price table's semantics), plus the
    OTel input count (which includes cached tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    otel_input_tokens: int = 0

    def prices_usage(self) -> Any:
        from agentreel.core.prices import Usage as PriceUsage  # prices loads its data file

        return PriceUsage(
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.reasoning_tokens,
        )


@dataclass
class Request:
    """What an LLM call was asked, in GenAI form."""

    provider: str
    model: str
    operation: str = "chat"
    system: list[dict[str, Any]] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    server_address: str | None = None
    server_port: int | None = None


@dataclass
class Response:
    """What came back."""

    model: str = ""
    response_id: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    usage: Usage | None = None


def recorded(rendered: Mapping[str, str], **extra: str) -> dict[str, str]:
    """Request field -> ``gen_ai.request.<name>``: the inverse of the table replay renders
    requests with (so what is recorded renders back as it was sent), plus ``extra``."""
    out: dict[str, str] = {}
    for neutral, name in rendered.items():
        out.setdefault(name, neutral)  # the first name is the OTel one (stop_sequences)
    return {**out, **extra}


def get(obj: Any, key: str, default: Any = None) -> Any:
    """A field of a request dict or a response model alike."""
    if type(obj) is dict or isinstance(obj, Mapping):  # the exact check first: it is cheap
        return obj.get(key, default)
    return getattr(obj, key, default)


def given(value: Any) -> bool:
    """Whether a request argument was passed (None and the clients' "not given" sentinels are
    not)."""
    # openai's NOT_GIVEN / omit sentinels are falsy objects of their own classes.
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def params_of(kwargs: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """The request arguments ``names`` knows, under its names, when given."""
    return {names[k]: v for k, v in kwargs.items() if k in names and given(v)}


def text_part(text: Any) -> dict[str, Any]:
    """A GenAI ``text`` part."""
    return {"type": "text", "content": text}
