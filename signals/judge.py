"""LLM-as-judge: ask a model behind an OpenAI-compatible Chat Completions endpoint whether a
run's final answer is supported by its evidence. Off unless a URL is configured."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

DEFAULT_PROMPT = """You are a strict fact checker for an AI agent's answer.
Decide whether every factual claim in the ANSWER is supported by the EVIDENCE (tool results
and context the agent was given). Reply with JSON only:
{"score": <1 if fully supported, 0 if any claim is unsupported>, "label": "supported" or
"unsupported", "explanation": "<one sentence naming unsupported claims>"}

QUESTION:
{question}

EVIDENCE:
{evidence}

ANSWER:
{answer}
"""
#: Characters of evidence sent at most (the judge's context is finite; the start matters most).
MAX_EVIDENCE = 24_000
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


class JudgeError(RuntimeError):
    """The judge endpoint failed or answered something that is not a verdict."""


@dataclass(frozen=True)
class JudgeVerdict:
    score: float
    label: str
    explanation: str
    model: str


@dataclass(frozen=True)
class Judge:
    """``url`` is the API base (``…/v1``); ``prompt`` takes ``{question}``, ``{evidence}``
    and ``{answer}``."""

    url: str
    model: str
    api_key: str = ""
    prompt: str = DEFAULT_PROMPT
    timeout: float = 60.0

    def judge(self, question: str, evidence: list[str], answer: str) -> JudgeVerdict:
        import httpx

        text = (
            self.prompt.replace("{question}", question or "(not captured)")
            .replace("{evidence}", "\n---\n".join(evidence)[:MAX_EVIDENCE] or "(none)")
            .replace("{answer}", answer)
        )
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "user", "content": text}],
        }
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.url.rstrip("/") + "/chat/completions"
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise JudgeError(f"judge endpoint {url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise JudgeError(
                f"judge endpoint answered {response.status_code}: {response.text[:200]}"
            )
        try:
            data = response.json()
            reply = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise JudgeError(f"judge answer is not a chat completion: {exc}") from exc
        return _verdict(reply, str(data.get("model") or self.model))


def _verdict(reply: str, model: str) -> JudgeVerdict:
    match = _JSON_OBJECT.search(reply)
    try:
        parsed: Any = orjson.loads(match.group(0)) if match else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("score"), int | float):
        raise JudgeError(f"judge reply has no JSON verdict with a numeric score: {reply[:200]!r}")
    score = max(0.0, min(1.0, float(parsed["score"])))
    label = str(parsed.get("label") or ("supported" if score >= 0.5 else "unsupported"))
    return JudgeVerdict(score, label, str(parsed.get("explanation") or ""), model)
