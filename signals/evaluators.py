"""Evaluators over stored runs: groundedness (no model), the LLM judge (when configured) and
rule checks. Each turns a run into scores (``source`` heuristic or llm_judge) whose ids are
stable per run and evaluator, so evaluating a run again replaces its earlier verdicts.

A run's final answer is the text of its last LLM call that produced text; its evidence is
every tool result, and the context the model was given (system instructions, user and tool
messages of the calls' inputs) — never the model's own earlier words."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

from agentreel.core.scores import Score, stable_id
from agentreel.core.text import text_of
from agentreel.replay.model import Escalation, LLMCall, Timeline
from agentreel.replay.steps import parts
from agentreel.replay.timeline import build_timeline, load_run
from agentreel.storage import scores as score_store

from . import groundedness
from .judge import Judge, JudgeError

log = logging.getLogger("agentreel.signals")

GROUNDEDNESS = "groundedness"
JUDGE = "judge"
#: Scores whose failure counts a run as hallucinating: value < 0.5, or for a detector's
#: ``hallucination`` score (1 = hallucinated, as evaluation frameworks send it) ≥ 0.5.
HALLUCINATION_SCORES = (GROUNDEDNESS, JUDGE, "hallucination")
INVERTED_SCORES = ("hallucination",)
RULES = ("rule.max_steps", "rule.answered", "rule.escalation")
EVALUATORS = (GROUNDEDNESS, JUDGE, *RULES)
#: Steps a run may take before ``rule.max_steps`` fails it (the dashboard's histogram limit).
MAX_STEPS = 10


@dataclass(frozen=True)
class RunText:
    """What the evaluators read from a run."""

    question: str
    answer: str | None
    evidence: list[str]
    step_count: int
    escalations: list[Escalation]
    status: str
    #: The user's words (also in ``evidence``, for the judge): they may name what was asked
    #: about, but state no fact the groundedness check may take as evidence.
    context: tuple[str, ...] = ()


@dataclass
class Evaluation:
    trace_id: str
    scores: list[Score] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_text(timeline: Timeline, calls: list[LLMCall]) -> RunText:
    """The final answer, the question and the evidence of a run, from its timeline."""
    answer = None
    for step in reversed(timeline.steps):
        if step.llm is not None:
            text = step.llm.output_text
            if text:
                answer = text
                break
            if step.llm.tool_calls:
                break  # the run's last word was a tool request: it ended without an answer
    evidence = [text_of(s.tool.result) for s in timeline.steps if s.tool is not None]
    question = ""
    user: list[str] = []
    for call in calls:
        system = call.window.system_instructions
        if system:
            evidence.append(text_of(system))
        for message in call.window.input_messages or []:
            if not isinstance(message, dict) or message.get("role") == "assistant":
                continue
            for part in parts([message]):
                if part.get("type") == "text":
                    evidence.append(str(part.get("content", "")))
                    if message.get("role") == "user":
                        user.append(str(part.get("content", "")))
                        question = question or user[-1]
                elif part.get("type") == "tool_call_response":
                    evidence.append(text_of(part.get("response")))
    escalations = [s.escalation for s in timeline.steps if s.escalation is not None]
    return RunText(
        question,
        answer,
        [e for e in evidence if e],
        timeline.step_count,
        escalations,
        timeline.status,
        tuple(u for u in user if u),
    )


def evaluate_text(
    trace_id: str,
    text: RunText,
    names: Iterable[str] = EVALUATORS,
    judge: Judge | None = None,
    max_steps: int = MAX_STEPS,
    now_ms: int = 0,
) -> Evaluation:
    """Run the named evaluators on one run's text."""
    wanted = set(names)
    out = Evaluation(trace_id)

    def score(name: str, value: float | None, label: str, explanation: str, **extra: Any) -> None:
        out.scores.append(
            Score(
                trace_id=trace_id,
                name=name,
                source=extra.pop("source", "heuristic"),
                data_type=extra.pop("data_type", "boolean"),
                value=value,
                label=label,
                explanation=explanation,
                details=orjson.dumps(extra).decode() if extra else "",
                time_ms=now_ms,
                score_id=stable_id(trace_id, "evaluator", name),
            )
        )

    if GROUNDEDNESS in wanted and text.answer:
        said = set(text.context)
        facts = [e for e in text.evidence if e not in said]
        verdict = groundedness.check(text.answer, facts, "\n".join(text.context))
        bad = verdict.unsupported
        if bad:
            why = f"{len(bad)} of {len(verdict.claims)} claims not supported by the evidence: "
            why += "; ".join(f"{c.text} ({c.kind}; evidence: {c.evidence})" for c in bad)
        elif verdict.claims:
            why = f"all {len(verdict.claims)} claims found in tool results or context"
        else:
            why = "nothing checkable in the answer (no number, date, name, id or status)"
        # Unchecked is no pass: it carries no value, so rates leave it out of their n.
        value = None if verdict.status == "unchecked" else (0.0 if bad else 1.0)
        score(
            GROUNDEDNESS,
            value,
            verdict.status,
            why,
            data_type="categorical" if value is None else "boolean",
            claims=len(verdict.claims),
            unsupported=[{"kind": c.kind, "text": c.text, "evidence": c.evidence} for c in bad],
        )
    if JUDGE in wanted and judge is not None and text.answer:
        try:
            v = judge.judge(text.question, text.evidence, text.answer)
        except JudgeError as exc:
            out.errors.append(f"{trace_id}: judge: {exc}")
        else:
            score(
                JUDGE, v.score, v.label, v.explanation, source="llm_judge",
                data_type="numeric", model=v.model,
            )  # fmt: skip
    if "rule.max_steps" in wanted:
        over = text.step_count > max_steps
        why = f"{text.step_count} steps (limit {max_steps})"
        score("rule.max_steps", 0.0 if over else 1.0, "over" if over else "ok", why)
    if "rule.answered" in wanted:
        answered = bool(text.answer)
        why = "the run ended with an answer" if answered else "the run ended without an answer"
        score("rule.answered", float(answered), "answered" if answered else "no_answer", why)
    if "rule.escalation" in wanted:
        reasons = [str(e.reason or "") for e in text.escalations]
        why = f"escalated: {'; '.join(r for r in reasons if r) or 'no reason given'}"
        score(
            "rule.escalation",
            0.0 if reasons else 1.0,
            "escalated" if reasons else "none",
            why if reasons else "no escalation",
        )
    return out


def evaluate_run(
    client: Any,
    project: str,
    trace_id: str,
    names: Iterable[str] = EVALUATORS,
    judge: Judge | None = None,
    now_ms: int = 0,
) -> Evaluation | None:
    """Evaluate one stored run; None when no span of it is stored."""
    run = load_run(client, project, trace_id)
    if run is None:
        return None
    text = run_text(build_timeline(run), run.calls)
    return evaluate_text(trace_id, text, names, judge, now_ms=now_ms)


#: Evaluated and flagged runs (see :data:`HALLUCINATION_SCORES`) per day, and per day, agent
#: and model, with the flagged runs: ``hallucination(client, project, since_ns, until_ns,
#: agent=None, model=None)``.
hallucination = partial(
    score_store.hallucination, names=HALLUCINATION_SCORES, inverted=INVERTED_SCORES
)


def sampled(trace_id: str, rate: float) -> bool:
    """Deterministic sampling by trace id: a run is in or out whoever asks."""
    if rate >= 1:
        return True
    try:
        return int(trace_id[:8], 16) / 0x1_0000_0000 < rate
    except ValueError:
        return False


#: Sources whose verdict on a run overrules the evaluators' (a person looked at it).
HUMAN_SOURCES = score_store.HUMAN_SOURCES


def decide(scores: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A run's hallucination verdict from its scores (as ``GET /runs/{id}/scores`` lists
    them), by the rule the rates use (:func:`agentreel.storage.scores.hallucination`): a
    person's verdict — a correction, or a human or user-feedback score among
    :data:`HALLUCINATION_SCORES` — decides alone; else any failing evaluator (the LLM judge,
    the groundedness check, a detector) flags the run. ``verdict`` is ``flagged``,
    ``grounded``, ``unchecked`` (the check found nothing to check and nothing else judged)
    or ``none``; ``decided_by`` names the scores that decided; ``unsupported`` lists the
    groundedness check's unsupported claims with the evidence each was compared with."""
    verdicts, unchecked, unsupported = [], False, []
    for s in scores:
        if s.get("span_id"):
            continue
        correction = s.get("kind") == "correction"
        if not correction and (s.get("kind") != "score" or s["name"] not in HALLUCINATION_SCORES):
            continue
        if s["name"] == GROUNDEDNESS and s.get("details"):
            try:
                unsupported = list(orjson.loads(s["details"]).get("unsupported") or [])
            except (orjson.JSONDecodeError, AttributeError):
                unsupported = []
        if not correction and s.get("value") is None:
            unchecked = unchecked or s.get("label") == "unchecked"
            continue
        value = s.get("value")
        bad = correction or (
            value >= 0.5 if s["name"] in INVERTED_SCORES else value < 0.5  # type: ignore[operator]
        )
        human = correction or s.get("source") in HUMAN_SOURCES
        verdicts.append((s["name"], s.get("source", ""), bool(bad), human))
    if not verdicts:
        state = "unchecked" if unchecked else "none"
        return {"verdict": state, "decided_by": [], "unsupported": unsupported}
    deciding = [v for v in verdicts if v[3]] or verdicts
    failed = [v for v in deciding if v[2]]
    chosen = failed or deciding
    return {
        "verdict": "flagged" if failed else "grounded",
        "decided_by": [{"name": n, "source": src} for n, src, _, _ in chosen],
        "unsupported": unsupported,
    }
