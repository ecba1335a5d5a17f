"""How each provider counts a call's tokens, and the disjoint parts each is billed at.

Token semantics (``Usage`` holds counts as the provider reported them); each token is billed
once, at the rate of its part:

* OpenAI-style APIs (OpenAI, Azure OpenAI, OpenRouter, Mistral, DeepSeek, Groq):
  ``input_tokens`` include the cached (read) tokens; ``output_tokens`` include reasoning.
* Anthropic's Messages API (also Claude on Bedrock and Vertex AI): ``input_tokens`` exclude
  cache reads and cache writes, which are billed on top at their own rates; thinking is part
  of ``output_tokens``.
* Gemini (``google-genai``, Vertex AI): the prompt count includes cached content. Gemini's
  candidates count leaves the thoughts out (they are billed as output); Google ADK reports
  it so, and so does a span whose total is above input + output. OpenInference and the OTel
  instrumentor fold the thoughts into the output count already.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Counts", "Usage", "split_counts"]

#: Providers (as spans name them, lower-cased) whose API reports tokens the Anthropic way.
_ANTHROPIC_APIS = frozenset(
    {"anthropic", "aws.bedrock", "bedrock", "aws", "gcp.vertex_ai", "vertex_ai", "vertexai"}
)
#: Providers whose API reports tokens the OpenAI way, whatever model they serve.
_OPENAI_APIS = frozenset(
    {"openai", "azure", "azure.ai.openai", "az.ai.openai", "azure.ai.inference", "openrouter"}
)
#: Providers serving Gemini under its own API (see :func:`_gemini_thoughts_apart`).
_GEMINI_APIS = frozenset(
    {
        "gcp.gemini", "gcp.gen_ai", "gcp.vertex_ai", "gcp.vertex.agent", "google", "gemini",
        "vertex_ai", "vertexai",
    }
)  # fmt: skip
#: Google ADK's ``gen_ai.system``: its output count is Gemini's candidates, thoughts apart.
_ADK = "gcp.vertex.agent"


@dataclass(frozen=True)
class Usage:
    """Token counts of one call as the provider reported them (as agentreel's Span stores them)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    #: The reported total, 0 when none: tells whether Gemini's output count holds the thoughts.
    total_tokens: int = 0


def _anthropic_tokens(provider: str, model: str, model_provider: str) -> bool:
    """Whether the call's usage counts input the Anthropic way (cache tokens apart)."""
    name = provider.strip().lower()
    claude = model_provider == "anthropic" or "claude" in model.lower()
    if name in _OPENAI_APIS:
        return False
    if name in _ANTHROPIC_APIS:
        return claude or name == "anthropic"
    return claude


def _gemini_thoughts_apart(provider: str, model: str, usage: Usage) -> bool:
    """Whether the output count leaves the reasoning (Gemini's thoughts) out.

    Gemini's own ``candidates_token_count`` does, and Google ADK reports it as the output
    (``gen_ai.system = gcp.vertex.agent``). OpenInference and the OTel google-genai
    instrumentor add the thoughts to the output count; an OpenAI-style gateway (OpenRouter)
    does too. A reported total above input + output says the thoughts are still apart (the
    collector fills a missing total with input + output, which says nothing)."""
    name = provider.strip().lower()
    if usage.reasoning_tokens <= 0 or name in _OPENAI_APIS:
        return False
    if name not in _GEMINI_APIS and "gemini" not in model.lower():
        return False
    if name == _ADK:
        return True
    return usage.total_tokens >= usage.input_tokens + usage.output_tokens + usage.reasoning_tokens


@dataclass(frozen=True)
class Counts:
    """One call's tokens split into disjoint parts, each billed once at its own rate."""

    plain_input: int
    cache_read: int
    cache_write: int
    plain_output: int
    reasoning: int

    @property
    def input_total(self) -> int:
        return self.plain_input + self.cache_read + self.cache_write

    @property
    def output_total(self) -> int:
        return self.plain_output + self.reasoning


def split_counts(
    usage: Usage, provider: str, model: str, model_provider: str = "", *, as_stored: bool = False
) -> Counts:
    """The call's disjoint token parts, reading ``usage`` with its API's semantics
    (``provider`` as the span names it; ``model_provider`` whose model it is, as the price
    table says, when known).

    ``as_stored`` reads the counts as agentreel stores them: the OTel GenAI semantics, where
    ``input_tokens`` include cache reads and writes for every provider (that is how
    OpenInference, OpenLLMetry and the Anthropic SDK's own spans report Anthropic calls). A
    count smaller than its cache figures can only be Anthropic's raw count; read as such.
    """
    prompt = max(usage.input_tokens, 0)
    cache_read = max(usage.cache_read_tokens, 0)
    cache_write = max(usage.cache_write_tokens, 0)
    if _anthropic_tokens(provider, model, model_provider) and (
        not as_stored or prompt < cache_read + cache_write
    ):
        prompt += cache_read + cache_write
    # Cache parts of the prompt, never more than it (a confused emitter bills the prompt once).
    cache_read = min(cache_read, prompt)
    cache_write = min(cache_write, prompt - cache_read)
    output = max(usage.output_tokens, 0)
    reasoning = max(usage.reasoning_tokens, 0)
    if _gemini_thoughts_apart(provider, model, usage):
        output += reasoning
    reasoning = min(reasoning, output)
    return Counts(
        prompt - cache_read - cache_write, cache_read, cache_write, output - reasoning, reasoning
    )
