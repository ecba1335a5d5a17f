"""Deterministic token usage, so tests can compute the numbers by hand.

The formula, with ``raw`` the exact request body bytes and ``out`` the reply's
:attr:`~fakeprovider.script.Reply.output_text`::

    prompt      = len(raw) // 4          # every prompt token, cached ones included
    cache_read  = prompt // 4
    cache_write = prompt // 8            # Anthropic only; OpenAI reports no cache writes
    output      = 8 + len(out) // 4
    reasoning   = output // 4            # OpenAI only; part of ``output``

OpenAI semantics: ``prompt_tokens = prompt`` includes ``cached_tokens = cache_read`` and
``completion_tokens = output`` includes ``reasoning_tokens``. Anthropic semantics:
``input_tokens = prompt - cache_read - cache_write`` excludes the cache figures, which are
reported apart as ``cache_read_input_tokens`` and ``cache_creation_input_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BYTES_PER_TOKEN = 4
OUTPUT_BASE_TOKENS = 8


@dataclass(frozen=True)
class Usage:
    """Provider-neutral token counts of one call; render with :meth:`openai` / :meth:`anthropic`."""

    prompt: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int

    def openai(self) -> dict[str, Any]:
        """The Chat Completions ``usage`` object."""
        return {
            "prompt_tokens": self.prompt,
            "completion_tokens": self.output,
            "total_tokens": self.prompt + self.output,
            "prompt_tokens_details": {"cached_tokens": self.cache_read, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def responses(self) -> dict[str, Any]:
        """The Responses API ``usage`` object (same figures as :meth:`openai`)."""
        return {
            "input_tokens": self.prompt,
            "input_tokens_details": {"cached_tokens": self.cache_read, "cache_write_tokens": 0},
            "output_tokens": self.output,
            "output_tokens_details": {"reasoning_tokens": self.reasoning},
            "total_tokens": self.prompt + self.output,
        }

    def anthropic(self) -> dict[str, Any]:
        """The Messages API ``usage`` object."""
        return {
            "input_tokens": self.prompt - self.cache_read - self.cache_write,
            "cache_creation_input_tokens": self.cache_write,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_write,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": self.output,
            "service_tier": "standard",
        }


def openai_usage(raw: bytes, output_text: str) -> Usage:
    """Usage for a Chat Completions or Responses call (no cache writes, some reasoning)."""
    prompt = len(raw) // BYTES_PER_TOKEN
    output = OUTPUT_BASE_TOKENS + len(output_text) // BYTES_PER_TOKEN
    return Usage(prompt, prompt // 4, 0, output, output // 4)


def anthropic_usage(raw: bytes, output_text: str) -> Usage:
    """Usage for a Messages call (cache reads and writes, no separate reasoning count)."""
    prompt = len(raw) // BYTES_PER_TOKEN
    output = OUTPUT_BASE_TOKENS + len(output_text) // BYTES_PER_TOKEN
    return Usage(prompt, prompt // 4, prompt // 8, output, 0)
