"""Emit the demo's runs as real OpenTelemetry spans, with explicit past timestamps.

One run is one trace: an ``invoke_agent`` root span; a routing decision; LLM calls in the
current OTel GenAI conventions (messages included, so replay works) that request tools;
the tool spans that ran them; sometimes an escalation to a human; evaluation results per
agentreel's score convention. Everything is drawn from one seeded ``random.Random``, so a
seed and an end time give the same spans (ids included) every time.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from agentreel.demo.agents import ANSWERS, Agent, Tool

NS = 1_000_000_000
DAY_NS = 86_400 * NS
#: One run in this many loops far too long on a huge context: the expensive outliers.
OUTLIER_ONE_IN = 45


class SeededIds(IdGenerator):
    """Trace and span ids from a seeded generator: the same seed gives the same ids."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


@dataclass
class RunStats:
    """What one generated run contained, for progress output and tests."""

    spans: int = 0
    failed: bool = False
    escalated: bool = False
    scored: bool = False


def run_times(agent: Agent, day_start_ns: int, end_ns: int, rng: random.Random) -> list[int]:
    """Start times of one agent's runs on one day: busier in working hours, none after now."""
    count = max(1, round(agent.runs_per_day * rng.uniform(0.75, 1.25)))
    times = []
    for _ in range(count):
        hour = rng.choices(range(24), weights=[1 if h < 7 or h > 19 else 4 for h in range(24)])[0]
        at = day_start_ns + hour * 3600 * NS + rng.randrange(3600 * NS)
        if at < end_ns - 120 * NS:
            times.append(at)
    return sorted(times)


class RunWriter:
    """Writes runs through ``tracers`` (one per service and environment)."""

    def __init__(self, tracer_for: Callable[[Agent], Tracer], rng: random.Random) -> None:
        self._tracer_for = tracer_for
        self._rng = rng

    def run(self, agent: Agent, start_ns: int, shifted: bool) -> RunStats:
        rng = self._rng
        tracer = self._tracer_for(agent)
        stats = RunStats()
        asked = rng.randrange(len(agent.questions))
        question = agent.questions[asked]
        session = f"s-{rng.getrandbits(32):08x}"
        user = rng.choice(agent.users)
        common = {"gen_ai.agent.name": agent.name}
        root = tracer.start_span(
            f"invoke_agent {agent.name}",
            kind=SpanKind.INTERNAL,
            start_time=start_ns,
            attributes={
                **common,
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": agent.provider,
                "gen_ai.conversation.id": session,
                "user.id": user,
            },
        )
        ctx = trace.set_span_in_context(root)
        now = start_ns + rng.randrange(2, 30) * NS // 1000
        stats.spans += 1

        # Routing: which tool (and, for some agents, which model) this run starts with.
        tool_name = agent.shifted_tool if shifted and rng.random() < 0.7 else agent.preferred_tool
        if rng.random() < 0.05:
            tool_name = rng.choice(agent.tools).name
        # Mostly sure; now and then unsure enough to hand the run to a human.
        confidence = round(rng.uniform(0.55, 0.98) if rng.random() > 0.04 else 0.4, 2)
        now = self._decision(
            tracer, ctx, now, "choose_tool", [t.name for t in agent.tools], tool_name, confidence
        )
        stats.spans += 1
        model = agent.model
        if agent.model != agent.shifted_model:
            model = agent.shifted_model if shifted and rng.random() < 0.8 else agent.model
            options = [agent.model[0], agent.shifted_model[0]]
            now = self._decision(tracer, ctx, now, "choose_model", options, model[0], 0.9)
            stats.spans += 1

        outlier = rng.randrange(OUTLIER_ONE_IN) == 0
        rounds = rng.randint(9, 14) if outlier else rng.choice((1, 1, 2, 2, 2, 3))
        failure = None
        if rng.random() < agent.failure_rate:
            failure = rng.choice(("tool", "tool", "llm", "gave_up"))
        messages: list[dict[str, Any]] = [
            {"role": "user", "parts": [{"type": "text", "content": question}]}
        ]
        tools_by_name = {t.name: t for t in agent.tools}
        bloat = 12 if outlier else 1
        prompt_tokens = 0
        for round_no in range(rounds + 1):
            final = round_no == rounds
            tool = tools_by_name[tool_name] if round_no == 0 else rng.choice(agent.tools)
            call_id = f"call_{rng.getrandbits(48):012x}"
            # The first call follows the question; later ones wander as agents do.
            arguments = {
                k: v[asked % len(v)] if round_no == 0 else rng.choice(v)
                for k, v in tool.arguments.items()
            }
            if final:
                fact = rng.choice(("It is all set.", "The policy allows it.", "Nothing is due."))
                output = {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": rng.choice(ANSWERS).format(fact=fact)}],
                }
            else:
                output = {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": call_id,
                            "name": tool.name,
                            "arguments": arguments,
                        }
                    ],
                }
            llm_fails = failure == "llm" and round_no == rounds // 2
            cached = prompt_tokens * 8 // 10
            prompt_tokens = (len(json.dumps(messages)) // 4 + 2500 + rng.randrange(1500)) * bloat
            now, llm_ok = self._llm_call(
                tracer, ctx, now, agent, model, messages, output, prompt_tokens, cached, llm_fails
            )
            stats.spans += 1
            if not llm_ok:
                stats.failed = True
                break
            messages.append(output)
            if final:
                break
            tool_fails = failure == "tool" and round_no == rounds - 1
            result = rng.choice(tool.results).format(**arguments)
            now = self._tool_call(
                tracer, ctx, now, agent, tool, call_id, arguments, result, tool_fails
            )
            stats.spans += 1
            if tool_fails:
                stats.failed = True
                break
            messages.append(
                {
                    "role": "tool",
                    "parts": [{"type": "tool_call_response", "id": call_id, "response": result}],
                }
            )
            if "amount_usd" in arguments and float(arguments["amount_usd"]) > 500:
                now = self._escalation(tracer, ctx, now, "refund over the $500 limit", "high")
                stats.spans += 1
                stats.escalated = True
        if failure == "gave_up" and not stats.failed:
            stats.failed = True
        if confidence < 0.45 and not stats.escalated:
            now = self._escalation(tracer, ctx, now, "router unsure which tool fits", "medium")
            stats.spans += 1
            stats.escalated = True

        if stats.failed:
            reason = {"tool": "a tool call failed", "llm": "the model call failed"}.get(
                failure or "", "gave up after too many attempts"
            )
            root.set_attribute("error.type", "AgentError")
            root.set_status(Status(StatusCode.ERROR, reason))
        stats.scored = self._scores(tracer, root, now, agent, model, stats.failed, shifted)
        if stats.scored and rng.random() < 0.05:
            self._feedback(tracer, ctx, now + rng.randrange(60, 1800) * NS, agent)
            stats.spans += 1
        root.end(end_time=now + rng.randrange(1, 20) * NS // 1000)
        return stats

    def _decision(
        self,
        tracer: Tracer,
        ctx: Any,
        now: int,
        name: str,
        options: list[str],
        chosen: str,
        confidence: float,
    ) -> int:
        end = now + self._rng.randrange(1, 40) * NS // 1000
        span = tracer.start_span(
            name,
            context=ctx,
            start_time=now,
            attributes={
                "agentreel.decision.name": name,
                "agentreel.decision.options": json.dumps(options),
                "agentreel.decision.chosen": chosen,
                "agentreel.decision.reason": f"{chosen} fits the request best",
                "agentreel.decision.confidence": confidence,
            },
        )
        span.end(end_time=end)
        return end

    def _escalation(self, tracer: Tracer, ctx: Any, now: int, reason: str, severity: str) -> int:
        end = now + self._rng.randrange(1, 5) * NS // 1000
        span = tracer.start_span(
            "escalate",
            context=ctx,
            start_time=now,
            attributes={
                "agentreel.escalation.reason": reason,
                "agentreel.escalation.target": "human:support-team",
                "agentreel.escalation.severity": severity,
            },
        )
        span.end(end_time=end)
        return end

    def _llm_call(
        self,
        tracer: Tracer,
        ctx: Any,
        now: int,
        agent: Agent,
        model: tuple[str, str],
        messages: list[dict[str, Any]],
        output: dict[str, Any],
        prompt_tokens: int,
        cached: int,
        fails: bool,
    ) -> tuple[int, bool]:
        rng = self._rng
        tool_call = output["parts"][0]["type"] == "tool_call"
        completion = len(json.dumps(output)) // 4 + rng.randrange(5, 60)
        attributes: dict[str, Any] = {
            "gen_ai.agent.name": agent.name,
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": agent.provider,
            "gen_ai.request.model": model[0],
            "gen_ai.request.temperature": 0.2,
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": agent.system}]),
            "gen_ai.input.messages": json.dumps(messages),
            "gen_ai.tool.definitions": json.dumps([t.definition() for t in agent.tools]),
        }
        span = tracer.start_span(
            f"chat {model[0]}", context=ctx, kind=SpanKind.CLIENT, start_time=now
        )
        span.set_attributes(attributes)
        if fails:
            end = now + rng.randrange(200, 900) * NS // 1000
            span.set_attribute("error.type", "RateLimitError")
            span.set_status(Status(StatusCode.ERROR, "429 Too Many Requests: rate limit reached"))
            span.end(end_time=end)
            return end, False
        finish = "tool_call" if tool_call else "stop"
        span.set_attributes(
            {
                "gen_ai.response.model": model[1],
                "gen_ai.response.id": f"resp_{rng.getrandbits(64):016x}",
                "gen_ai.response.finish_reasons": [finish],
                "gen_ai.output.messages": json.dumps([{**output, "finish_reason": finish}]),
                "gen_ai.usage.input_tokens": prompt_tokens,
                "gen_ai.usage.output_tokens": completion,
                "gen_ai.usage.cache_read.input_tokens": min(cached, prompt_tokens),
            }
        )
        end = now + (300 + completion * rng.randrange(8, 25) + prompt_tokens // 40) * NS // 1000
        span.end(end_time=end)
        return end, True

    def _tool_call(
        self,
        tracer: Tracer,
        ctx: Any,
        now: int,
        agent: Agent,
        tool: Tool,
        call_id: str,
        arguments: dict[str, str],
        result: str,
        fails: bool,
    ) -> int:
        rng = self._rng
        span = tracer.start_span(
            f"execute_tool {tool.name}",
            context=ctx,
            start_time=now,
            attributes={
                "gen_ai.agent.name": agent.name,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool.name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": json.dumps(arguments),
            },
        )
        if fails:
            end = now + rng.randrange(5_000, 10_000) * NS // 1000
            message = f"{tool.name} did not answer in time"
            span.set_attribute("error.type", tool.error_type)
            span.add_event(
                "exception",
                {"exception.type": tool.error_type, "exception.message": message},
                timestamp=end,
            )
            span.set_status(Status(StatusCode.ERROR, message))
        else:
            end = now + rng.randrange(40, 900) * NS // 1000
            span.set_attribute("gen_ai.tool.call.result", result)
        span.end(end_time=end)
        return end

    def _scores(
        self,
        tracer: Tracer,
        root: Any,
        now: int,
        agent: Agent,
        model: tuple[str, str],
        failed: bool,
        shifted: bool,
    ) -> bool:
        """An LLM judge scores about half the runs; research answers are also checked for
        hallucination, which rises once the cheaper model takes over (quality drift)."""
        rng = self._rng
        if rng.random() >= 0.5:
            return False
        value = round(min(1.0, max(0.0, rng.gauss(0.35 if failed else 0.82, 0.1))), 2)
        _evaluation(root, now, "helpfulness", value, "good" if value >= 0.6 else "poor", "judge")
        if agent.name == "research-agent":
            rate = 0.25 if model != agent.model and shifted else 0.06
            hallucinated = rng.random() < rate
            label = "hallucinated" if hallucinated else "grounded"
            _evaluation(root, now, "hallucination", 1.0 if hallucinated else 0.0, label, "judge")
        return True

    def _feedback(self, tracer: Tracer, ctx: Any, at: int, agent: Agent) -> None:
        """A user's correction minutes after the run ended: a short ``agentreel.score`` span
        under the root, carrying the evaluation event (the contract's late-score form)."""
        span = tracer.start_span(
            "agentreel.score",
            context=ctx,
            start_time=at,
            attributes={"agentreel.span.kind": "evaluator", "gen_ai.agent.name": agent.name},
        )
        span.add_event(
            "gen_ai.evaluation.result",
            {
                "gen_ai.evaluation.name": "user_feedback",
                "gen_ai.evaluation.score.value": 0.0,
                "gen_ai.evaluation.score.label": "thumbs_down",
                "gen_ai.evaluation.explanation": "the answer was wrong",
                "agentreel.score.source": "user_feedback",
                "agentreel.score.kind": "correction",
                "agentreel.score.comment": "that is not our refund policy",
                "agentreel.score.correction": "Annual plans are refundable within 30 days.",
            },
            timestamp=at,
        )
        span.end(end_time=at + NS // 1000)


def _evaluation(root: Any, at: int, name: str, value: float, label: str, why: str) -> None:
    root.add_event(
        "gen_ai.evaluation.result",
        {
            "gen_ai.evaluation.name": name,
            "gen_ai.evaluation.score.value": value,
            "gen_ai.evaluation.score.label": label,
            "gen_ai.evaluation.explanation": f"{why}: {label}",
            "agentreel.score.source": "llm_judge",
            "agentreel.score.kind": "score",
        },
        timestamp=at,
    )
