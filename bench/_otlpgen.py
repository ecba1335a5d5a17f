"""Synthetic OTLP trace payloads that look like real AI-agent traffic.

The generator simulates a fleet of agent workers, each running agent runs back to
back. A run is a tool loop in the current OpenTelemetry GenAI conventions:

* a root span ``invoke_agent <agent>``;
* per step an LLM span ``chat <model>`` carrying the system instructions, the tool
  definitions and the *whole* conversation so far in ``gen_ai.input.messages`` (so the
  payload grows quadratically with the number of steps, as it does with real
  instrumentors), plus the step's output in ``gen_ai.output.messages``;
* after each non-final step a tool span ``execute_tool <tool>`` whose result reappears
  in the next LLM span's input.

Text is drawn from a seeded vocabulary of pronounceable pseudo-words with a Zipf-like
frequency, sprinkled with numbers and identifiers, so it compresses about as well as
real prose and logs do rather than trivially. Spans of all concurrent workers are
merged in end-time order and cut into export requests the way an OpenTelemetry
``BatchSpanProcessor`` would, then serialized once, up front, so that a benchmark does
not measure the generator.

Everything is deterministic for a given seed, except the absolute timestamps, which
are anchored to the wall clock at generation time.
"""

from __future__ import annotations

import gzip
import heapq
import itertools
import json
import random
import string
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' harness

from support.otlpbuild import kv

AttrValue = str | int | float | bool | list[str]
"""Attribute values the generator emits."""

_NS = 1_000_000_000
_SCOPE_NAME = "agentreel.bench.agents"
_SCOPE_VERSION = "0.1.0"

_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "z",
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "w",
    "bl",
    "br",
    "ch",
    "cl",
    "cr",
    "dr",
    "fl",
    "fr",
    "gl",
    "gr",
    "pl",
    "pr",
    "qu",
    "sc",
    "sh",
    "sk",
    "sl",
    "sn",
    "sp",
    "st",
    "th",
    "tr",
] + [""] * 3
_NUCLEI = [
    "a",
    "e",
    "i",
    "o",
    "u",
    "a",
    "e",
    "i",
    "o",
    "a",
    "e",
    "i",
    "o",
    "ai",
    "ea",
    "ee",
    "ie",
    "oo",
    "ou",
    "y",
]
_CODAS = [""] * 8 + ["n", "r", "s", "t", "l", "m", "d", "nd", "st", "rk", "ng", "x", "th", "ck"]


# --------------------------------------------------------------------------- text


class Lexicon:
    """A seeded pseudo-language: vocabulary, sentence and identifier generators.

    Args:
        seed: seed of the vocabulary (the words themselves, not the texts drawn).
        size: number of distinct words.
        zipf: exponent of the rank-frequency law (1.0 is natural language).
    """

    def __init__(self, seed: int, size: int = 3000, zipf: float = 1.0) -> None:
        rng = random.Random(f"lexicon:{seed}")
        words: set[str] = set()
        while len(words) < size:
            syllables = rng.choices((1, 2, 3, 4), weights=(4, 6, 3, 1))[0]
            words.add(
                "".join(
                    rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
                    for _ in range(syllables)
                )
            )
        # Frequent words are short, as in natural language: rank by length plus noise.
        self.words: list[str] = sorted(words, key=lambda w: len(w) + rng.uniform(-5.0, 5.0))
        weights = [1.0 / (rank + 2.7) ** zipf for rank in range(size)]
        self._cum: list[float] = list(itertools.accumulate(weights))
        # Collocations ("of the", "in order to"): word sequences that recur, as in real text.
        self.phrases: list[str] = [
            " ".join(self.pick(rng, rng.randint(2, 4))) for _ in range(size // 4)
        ]
        self._phrase_cum: list[float] = self._cum[: len(self.phrases)]

    def pick(self, rng: random.Random, k: int) -> list[str]:
        """Return ``k`` words drawn by frequency."""
        return rng.choices(self.words, cum_weights=self._cum, k=k)

    def token(self, rng: random.Random) -> str:
        """Return a number, identifier or quantity like those found in real text."""
        roll = rng.random()
        if roll < 0.35:
            return str(rng.randint(2, 99_999))
        if roll < 0.55:
            return f"{rng.uniform(0, 1000):.{rng.randint(1, 3)}f}"
        if roll < 0.75:
            prefix = rng.choice(("id", "req", "usr", "ord", "inv", "tkt", "job", "doc"))
            return f"{prefix}_{rng.getrandbits(40):010x}"
        if roll < 0.88:
            return f"{rng.randint(1, 100)}%"
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    def sentence(self, rng: random.Random, lo: int = 6, hi: int = 20) -> str:
        """Return one capitalized sentence with occasional numbers and identifiers."""
        words = self.pick(rng, rng.randint(lo, hi))
        for _ in range(int(len(words) * 0.35 + rng.random())):
            words[rng.randrange(len(words))] = rng.choices(
                self.phrases, cum_weights=self._phrase_cum
            )[0]
        for _ in range(int(len(words) * 0.07 + rng.random())):
            words[rng.randrange(len(words))] = self.token(rng)
        if len(words) > 8 and rng.random() < 0.4:
            cut = rng.randrange(3, len(words) - 3)
            words[cut] += ","
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice((".", ".", ".", ".", "?", "!", ":"))

    def prose(self, rng: random.Random, chars: int) -> str:
        """Return paragraphs of sentences totalling about ``chars`` characters."""
        out: list[str] = []
        total = 0
        para = 0
        while total < chars:
            s = self.sentence(rng)
            para += 1
            if para > rng.randint(3, 7):
                s = "\n\n" + s
                para = 0
            out.append(s)
            total += len(s) + 1
        return " ".join(out)[:chars].rstrip()

    def phrase(self, rng: random.Random, lo: int = 2, hi: int = 5) -> str:
        """Return a short lowercase phrase (titles, names, labels)."""
        return " ".join(self.pick(rng, rng.randint(lo, hi)))

    def ident(self, rng: random.Random, parts: int = 2) -> str:
        """Return a snake_case identifier made of pseudo-words."""
        return "_".join(self.pick(rng, parts))


def _rand_alnum(rng: random.Random, n: int) -> str:
    """Return ``n`` random letters and digits (provider-style call ids)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choices(alphabet, k=n))


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class ToolSpec:
    """One tool an agent offers the model.

    Attributes:
        name: function name.
        kind: which result renderer produces its output (search, sql, file, http, logs).
        description: free-text description sent to the model.
        params: JSON-schema properties: name -> (type, description).
    """

    name: str
    kind: str
    description: str
    params: dict[str, tuple[str, str]]

    def definition(self) -> dict[str, object]:
        """Return the tool as a ``gen_ai.tool.definitions`` entry."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {
                    k: {"type": t, "description": d} for k, (t, d) in self.params.items()
                },
                "required": sorted(self.params)[:1],
            },
        }


_TOOL_KINDS: dict[str, tuple[str, ...]] = {
    "search": ("search_knowledge_base", "search_docs", "find_articles", "lookup_policy"),
    "sql": ("run_sql", "query_orders", "query_metrics", "fetch_accounts"),
    "file": ("read_file", "open_source_file", "view_snippet"),
    "http": ("http_get", "call_internal_api", "get_customer", "get_ticket"),
    "logs": ("search_logs", "tail_service_logs", "get_job_output"),
}

_PARAMS: dict[str, dict[str, str]] = {
    "search": {"query": "string", "top_k": "integer", "collection": "string"},
    "sql": {"query": "string", "limit": "integer", "database": "string"},
    "file": {"path": "string", "start_line": "integer", "end_line": "integer"},
    "http": {"url": "string", "method": "string", "id": "string"},
    "logs": {"service": "string", "query": "string", "since_minutes": "integer"},
}


def _make_tool(lex: Lexicon, rng: random.Random, kind: str, used: set[str]) -> ToolSpec:
    """Invent a tool of ``kind`` with a name not in ``used``."""
    names = [n for n in _TOOL_KINDS[kind] if n not in used]
    name = rng.choice(names) if names else f"{kind}_{lex.ident(rng, 1)}"
    used.add(name)
    params = {
        p: (t, lex.sentence(rng, 3, 7)) for p, t in _PARAMS[kind].items() if rng.random() < 0.6
    }
    if not params:
        first = next(iter(_PARAMS[kind].items()))
        params = {first[0]: (first[1], lex.sentence(rng, 3, 7))}
    desc = " ".join(lex.sentence(rng, 6, 16) for _ in range(rng.randint(1, 2)))
    return ToolSpec(name=name, kind=kind, description=desc, params=params)


# --------------------------------------------------------------------------- agents


@dataclass(frozen=True)
class AgentProfile:
    """A deployed agent: prompt, tools and model shared by all of its runs."""

    name: str
    service: str
    provider: str
    model: str
    response_model: str
    system_prompt: str
    tools: tuple[ToolSpec, ...]
    tool_definitions_json: str
    system_instructions_json: str
    resource: tuple[tuple[str, str], ...]


_MODELS = (
    ("openai", "gpt-4.1", "gpt-4.1-2025-04-14"),
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001"),
    ("gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash"),
)

_AGENT_NAMES = (
    "support-triage",
    "billing-assistant",
    "code-reviewer",
    "incident-responder",
    "research-analyst",
    "sales-copilot",
)


def _system_prompt(lex: Lexicon, rng: random.Random, name: str, chars: int) -> str:
    """Return a markdown-ish system prompt of ``chars`` characters."""
    lines = [f"You are {name}, {lex.phrase(rng, 3, 6)}. {lex.sentence(rng)}", ""]
    while sum(len(x) + 1 for x in lines) < chars:
        lines.append(f"## {lex.phrase(rng, 1, 3).title()}")
        lines.append(lex.sentence(rng, 10, 24) + " " + lex.sentence(rng, 10, 24))
        for _ in range(rng.randint(2, 6)):
            lines.append(f"- {lex.sentence(rng, 5, 16)}")
        lines.append("")
    return "\n".join(lines)[:chars].rstrip()


def make_agents(
    lex: Lexicon, seed: int, count: int = 5, prompt_chars: tuple[int, int] = (2000, 3000)
) -> list[AgentProfile]:
    """Return ``count`` agent profiles (deterministic for ``seed``)."""
    rng = random.Random(f"agents:{seed}")
    agents: list[AgentProfile] = []
    for i in range(count):
        base = _AGENT_NAMES[i % len(_AGENT_NAMES)]
        name = base if i < len(_AGENT_NAMES) else f"{base}-{i}"
        provider, model, response_model = _MODELS[i % len(_MODELS)]
        prompt = _system_prompt(lex, rng, name, rng.randint(*prompt_chars))
        used: set[str] = set()
        kinds = rng.sample(sorted(_TOOL_KINDS), k=rng.randint(3, 4))
        tools = tuple(_make_tool(lex, rng, kind, used) for kind in kinds)
        agents.append(
            AgentProfile(
                name=name,
                service=f"{name}-svc",
                provider=provider,
                model=model,
                response_model=response_model,
                system_prompt=prompt,
                tools=tools,
                tool_definitions_json=json.dumps([t.definition() for t in tools]),
                system_instructions_json=json.dumps([{"type": "text", "content": prompt}]),
                resource=(
                    ("service.name", f"{name}-svc"),
                    ("service.version", f"1.{rng.randint(0, 9)}.{rng.randint(0, 30)}"),
                    ("deployment.environment.name", "production"),
                    ("telemetry.sdk.name", "opentelemetry"),
                    ("telemetry.sdk.language", "python"),
                    ("telemetry.sdk.version", "1.38.0"),
                ),
            )
        )
    return agents


# --------------------------------------------------------------------------- tool results


def _result_search(lex: Lexicon, rng: random.Random, chars: int) -> str:
    """Render search hits: numbered titles, ids, scores and snippets."""
    out: list[str] = []
    i = 1
    size = 0
    while size < chars:
        title = lex.phrase(rng, 3, 7).title()
        score = rng.uniform(0.4, 0.99)
        doc = f"kb-{rng.randint(10_000, 99_999)}"
        body = " ".join(lex.sentence(rng) for _ in range(rng.randint(2, 4)))
        out.append(f"[{i}] {title} (doc_id: {doc}, score: {score:.3f})\n{body}\n")
        size += len(out[-1]) + 1
        i += 1
    return "\n".join(out)


def _result_sql(lex: Lexicon, rng: random.Random, chars: int) -> str:
    """Render a CSV result set with low-cardinality columns, like a real table."""
    cols = ["id", lex.ident(rng, 1), lex.ident(rng, 2), "amount", "status", "updated_at"]
    rows = [",".join(cols)]
    statuses = lex.pick(rng, 4)
    names = [lex.phrase(rng, 1, 3) for _ in range(rng.randint(3, 12))]
    codes = [lex.ident(rng, 1) for _ in range(3)]
    base_id = rng.randint(1, 9_000_000)
    size = len(rows[0])
    while size < chars:
        base_id += rng.randint(1, 40)
        row = ",".join(
            (
                str(base_id),
                rng.choice(names),
                f"{rng.choice(codes)}-{rng.randint(100, 999)}",
                f"{rng.uniform(0, 25_000):.2f}",
                rng.choice(statuses),
                f"2026-11-{rng.randint(1, 21):02d}T{rng.randint(0, 23):02d}:"
                f"{rng.randint(0, 59):02d}:00Z",
            )
        )
        rows.append(row)
        size += len(row) + 1
    rows.append(f"({len(rows) - 1} rows)")
    return "\n".join(rows)


def _result_file(lex: Lexicon, rng: random.Random, chars: int) -> str:
    """Render a numbered source-code excerpt reusing a file-local set of names."""
    names = [lex.ident(rng, rng.randint(1, 2)) for _ in range(rng.randint(12, 30))]
    lines: list[str] = []
    n = rng.randint(1, 400)
    indent = 0
    size = 0
    while size < chars:
        roll = rng.random()
        pad = "    " * indent
        if roll < 0.12 or indent == 0:
            args = ", ".join(rng.sample(names, rng.randint(1, 4)))
            line = f"{pad}def {rng.choice(names)}(self, {args}):"
            indent = min(indent + 1, 3)
        elif roll < 0.22:
            line = f"{pad}# {lex.sentence(rng, 4, 12)}"
        elif roll < 0.30:
            line = f'{pad}raise ValueError(f"{lex.sentence(rng, 3, 8)} {{{rng.choice(names)}}}")'
            indent = max(indent - 1, 0)
        elif roll < 0.40:
            line = f"{pad}if self.{rng.choice(names)} > {rng.randint(0, 1000)}:"
            indent = min(indent + 1, 3)
        elif roll < 0.48:
            line = f"{pad}return {rng.choice(names)}"
            indent = max(indent - 1, 0)
        else:
            call_args = ", ".join(rng.sample(names, rng.randint(0, 3)))
            line = f"{pad}{rng.choice(names)} = self.{rng.choice(names)}({call_args})"
        lines.append(f"{n:4d}  {line}")
        size += len(lines[-1]) + 1
        n += 1
    return "\n".join(lines)


def _result_http(lex: Lexicon, rng: random.Random, chars: int) -> str:
    """Render a pretty-printed JSON API response."""
    items: list[dict[str, object]] = []
    payload: dict[str, object] = {
        "request_id": f"req_{rng.getrandbits(64):016x}",
        "status": "ok",
        "items": items,
    }
    tags = lex.pick(rng, 8)
    size = 80
    while size < chars:
        item: dict[str, object] = {
            "id": f"{lex.ident(rng, 1)}_{rng.getrandbits(32):08x}",
            "name": lex.phrase(rng, 2, 4).title(),
            "created_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
            "value": round(rng.uniform(0, 5000), 2),
            "tags": rng.sample(tags, rng.randint(1, 3)),
            "note": lex.sentence(rng, 6, 16),
        }
        items.append(item)
        size += len(json.dumps(item)) + 8
    return json.dumps(payload, indent=2)


def _result_logs(lex: Lexicon, rng: random.Random, chars: int) -> str:
    """Render log lines built from a handful of message templates."""
    svc = lex.ident(rng, 1)
    templates = [
        lex.sentence(rng, 3, 9).rstrip(".?!:") + " {}={}" for _ in range(rng.randint(5, 15))
    ]
    keys = lex.pick(rng, 6)
    lines: list[str] = []
    t = rng.randint(0, 80_000)
    size = 0
    while size < chars:
        t += rng.randint(0, 30)
        level = rng.choices(("INFO", "DEBUG", "WARN", "ERROR"), weights=(6, 3, 2, 1))[0]
        msg = rng.choice(templates).format(rng.choice(keys), rng.randint(0, 5000))
        lines.append(
            f"2026-11-21T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}."
            f"{rng.randint(0, 999):03d}Z {level:5s} {svc}-{rng.randint(1, 3)} "
            f"request_id={rng.getrandbits(32):08x} {msg}"
        )
        size += len(lines[-1]) + 1
    return "\n".join(lines)


_RESULTS = {
    "search": _result_search,
    "sql": _result_sql,
    "file": _result_file,
    "http": _result_http,
    "logs": _result_logs,
}


def _tool_args(lex: Lexicon, rng: random.Random, tool: ToolSpec) -> dict[str, object]:
    """Return plausible call arguments for ``tool``."""
    args: dict[str, object] = {}
    for name, (typ, _) in tool.params.items():
        if typ == "integer":
            args[name] = rng.randint(1, 200)
        elif name == "url":
            args[name] = f"https://api.internal/{lex.ident(rng, 1)}/{rng.getrandbits(32):08x}"
        elif name == "path":
            args[name] = f"src/{lex.ident(rng, 1)}/{lex.ident(rng)}.py"
        elif name == "query" and tool.kind == "sql":
            args[name] = (
                f"SELECT * FROM {lex.ident(rng, 1)} WHERE {lex.ident(rng, 1)} = "
                f"'{rng.getrandbits(32):08x}' ORDER BY updated_at DESC"
            )
        else:
            args[name] = lex.phrase(rng, 2, 7)
    return args


# --------------------------------------------------------------------------- spans


@dataclass(slots=True)
class SpanSpec:
    """A span before protobuf encoding (kept small; only big strings are shared)."""

    agent: int
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    kind: int
    start: int
    end: int
    attrs: list[tuple[str, AttrValue]]
    error: str = ""


@dataclass
class GenConfig:
    """Knobs of the workload (defaults reproduce the documented benchmark)."""

    seed: int = 1
    spans: int = 60_000
    batch_spans: int = 512
    concurrency: int = 8
    agents: int = 5
    vocabulary: int = 3000
    steps: tuple[int, int] = (5, 11)
    steps_decay: float = 1.0
    tool_result_chars: tuple[int, int] = (1024, 4096)
    tool_result_skew: float = 3.0
    prompt_chars: tuple[int, int] = (2000, 3000)
    tool_error_rate: float = 0.02
    base_time_ns: int | None = None
    """Start of the simulated timeline; default: early enough that the last spans end
    about a minute before generation."""


def draw_steps(rng: random.Random, cfg: GenConfig) -> int:
    """Draw a run's number of LLM calls: ``cfg.steps`` range, geometric-like decay.

    Short loops are more common than long ones in real agent traffic; a decay of 1.0
    makes every length in the range equally likely.
    """
    lo, hi = cfg.steps
    lengths = range(lo, hi + 1)
    return rng.choices(lengths, weights=[cfg.steps_decay**i for i in range(len(lengths))])[0]


class _Fleet:
    """Shared state of the simulated workers: run budget and identities."""

    def __init__(self, cfg: GenConfig, lex: Lexicon, agents: list[AgentProfile]) -> None:
        self.cfg = cfg
        self.lex = lex
        self.agents = agents
        if cfg.base_time_ns is None:
            # About 1.45 s of simulated time per span and worker (measured).
            seconds = cfg.spans / max(cfg.concurrency, 1) * 1.5 + 60
            self.base_ns = time.time_ns() - int(seconds * _NS)
        else:
            self.base_ns = cfg.base_time_ns
        self.spans_planned = 0
        self.runs_planned = 0
        users = random.Random(f"users:{cfg.seed}")
        self.users = [f"user-{users.getrandbits(32):08x}" for _ in range(200)]

    def next_run(self) -> int | None:
        """Reserve the next run index, or ``None`` once the span budget is spent."""
        if self.spans_planned >= self.cfg.spans:
            return None
        run = self.runs_planned
        self.runs_planned += 1
        rng = random.Random(f"plan:{self.cfg.seed}:{run}")
        self.spans_planned += 2 * draw_steps(rng, self.cfg)
        return run


def _message(role: str, parts: list[dict[str, object]], finish: str | None = None) -> str:
    """Encode one message in the GenAI JSON schema (role + typed parts)."""
    msg: dict[str, object] = {"role": role, "parts": parts}
    if finish is not None:
        msg["finish_reason"] = finish
    return json.dumps(msg)


def _run_spans(fleet: _Fleet, run: int, start_ns: int) -> list[SpanSpec]:
    """Simulate one agent run starting at ``start_ns``; spans in end-time order."""
    cfg, lex = fleet.cfg, fleet.lex
    rng = random.Random(f"plan:{cfg.seed}:{run}")
    steps = draw_steps(rng, cfg)  # same draw as _Fleet.next_run
    rng = random.Random(f"run:{cfg.seed}:{run}")
    a_idx = rng.randrange(len(fleet.agents))
    agent = fleet.agents[a_idx]
    trace_id = rng.randbytes(16)
    root_id = rng.randbytes(8)
    user = rng.choice(fleet.users)
    conversation = f"conv_{rng.getrandbits(96):024x}"
    call_prefix = "toolu_" if agent.provider == "anthropic" else "call_"

    question = lex.prose(rng, rng.randint(80, 600))
    history: list[str] = [_message("user", [{"type": "text", "content": question}])]
    spans: list[SpanSpec] = []
    t = start_ns + rng.randint(2, 40) * 1_000_000
    prev_input_tokens = 0
    sys_chars = len(agent.system_prompt) + len(agent.tool_definitions_json)
    total_in = total_out = 0

    for step in range(steps):
        final = step == steps - 1
        parts: list[dict[str, object]] = []
        tool: ToolSpec | None = None
        call_id = ""
        args: dict[str, object] = {}
        if final:
            parts.append({"type": "text", "content": lex.prose(rng, rng.randint(300, 1200))})
            finish = "stop"
        else:
            if rng.random() < 0.25:
                parts.append({"type": "text", "content": lex.prose(rng, rng.randint(30, 200))})
            tool = rng.choice(agent.tools)
            call_id = call_prefix + _rand_alnum(rng, 24)
            args = _tool_args(lex, rng, tool)
            parts.append({"type": "tool_call", "id": call_id, "name": tool.name, "arguments": args})
            finish = "tool_call"
        out_json = _message("assistant", parts, finish)
        input_json = "[" + ",".join(history) + "]"
        in_tokens = (sys_chars + len(input_json)) // 4
        out_tokens = max(8, len(out_json) // 4 + rng.randint(-10, 40))
        cached = prev_input_tokens - rng.randint(0, 64) if step else 0
        prev_input_tokens = in_tokens
        total_in += in_tokens
        total_out += out_tokens
        duration = int((0.35 + out_tokens * 0.012 + rng.random() * 0.8) * _NS)
        llm_attrs: list[tuple[str, AttrValue]] = [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", agent.provider),
            ("gen_ai.request.model", agent.model),
            ("gen_ai.response.model", agent.response_model),
            ("gen_ai.response.id", f"resp_{rng.getrandbits(96):024x}"),
            ("gen_ai.request.max_tokens", 4096),
            ("gen_ai.request.temperature", 0.2),
            ("gen_ai.usage.input_tokens", in_tokens),
            ("gen_ai.usage.output_tokens", out_tokens),
            ("gen_ai.usage.cache_read.input_tokens", max(cached, 0)),
            ("gen_ai.response.finish_reasons", [finish]),
            ("gen_ai.conversation.id", conversation),
            ("gen_ai.agent.name", agent.name),
            ("gen_ai.system_instructions", agent.system_instructions_json),
            ("gen_ai.tool.definitions", agent.tool_definitions_json),
            ("gen_ai.input.messages", input_json),
            ("gen_ai.output.messages", "[" + out_json + "]"),
        ]
        spans.append(
            SpanSpec(
                a_idx,
                trace_id,
                rng.randbytes(8),
                root_id,
                f"chat {agent.model}",
                Span.SPAN_KIND_CLIENT,
                t,
                t + duration,
                llm_attrs,
            )
        )
        t += duration + rng.randint(1, 30) * 1_000_000
        if final or tool is None:
            break
        history.append(_message("assistant", parts))
        lo, hi = cfg.tool_result_chars
        # Skewed towards small results, as real tool outputs are (1.0 = log-uniform).
        size = int(lo * (hi / lo) ** (rng.random() ** cfg.tool_result_skew))
        result = _RESULTS[tool.kind](lex, rng, size)[:size]
        error = ""
        if rng.random() < cfg.tool_error_rate:
            error = "TimeoutError"
            result = f"Error: tool timed out after 30s. {lex.sentence(rng)}"
        tool_duration = int((0.02 + rng.random() * 1.5) * _NS)
        tool_attrs: list[tuple[str, AttrValue]] = [
            ("gen_ai.operation.name", "execute_tool"),
            ("gen_ai.tool.name", tool.name),
            ("gen_ai.tool.type", "function"),
            ("gen_ai.tool.call.id", call_id),
            ("gen_ai.tool.call.arguments", json.dumps(args)),
            ("gen_ai.tool.call.result", result),
        ]
        if error:
            tool_attrs.append(("error.type", error))
        spans.append(
            SpanSpec(
                a_idx,
                trace_id,
                rng.randbytes(8),
                root_id,
                f"execute_tool {tool.name}",
                Span.SPAN_KIND_INTERNAL,
                t,
                t + tool_duration,
                tool_attrs,
                error,
            )
        )
        t += tool_duration + rng.randint(1, 20) * 1_000_000
        history.append(
            _message("tool", [{"type": "tool_call_response", "id": call_id, "response": result}])
        )

    root_attrs: list[tuple[str, AttrValue]] = [
        ("gen_ai.operation.name", "invoke_agent"),
        ("gen_ai.agent.name", agent.name),
        ("gen_ai.agent.id", f"agent_{a_idx:04d}"),
        ("gen_ai.provider.name", agent.provider),
        ("gen_ai.request.model", agent.model),
        ("gen_ai.conversation.id", conversation),
        ("gen_ai.usage.input_tokens", total_in),
        ("gen_ai.usage.output_tokens", total_out),
        ("user.id", user),
    ]
    spans.append(
        SpanSpec(
            a_idx,
            trace_id,
            root_id,
            b"",
            f"invoke_agent {agent.name}",
            Span.SPAN_KIND_INTERNAL,
            start_ns,
            t,
            root_attrs,
        )
    )
    return spans


def _worker(fleet: _Fleet, worker: int) -> Iterator[tuple[int, int, SpanSpec]]:
    """Yield ``(end, tiebreak, span)`` for runs executed back to back by one worker."""
    rng = random.Random(f"worker:{fleet.cfg.seed}:{worker}")
    t = fleet.base_ns + rng.randint(0, 20 * _NS)
    seq = 0
    while (run := fleet.next_run()) is not None:
        spans = _run_spans(fleet, run, t)
        for s in spans:
            yield s.end, worker * 1_000_000_000 + seq, s
            seq += 1
        t = spans[-1].end + rng.randint(50, 3000) * 1_000_000


# --------------------------------------------------------------------------- encoding


def _fill_span(dst: Span, s: SpanSpec) -> None:
    """Copy ``s`` into the protobuf span ``dst``."""
    dst.trace_id = s.trace_id
    dst.span_id = s.span_id
    if s.parent_id:
        dst.parent_span_id = s.parent_id
    dst.name = s.name
    dst.kind = s.kind  # type: ignore[assignment]
    dst.start_time_unix_nano = s.start
    dst.end_time_unix_nano = s.end
    dst.flags = 0x100  # W3C flags known, parent not remote
    dst.attributes.extend(kv(key, value) for key, value in s.attrs)
    if s.error:
        dst.status.code = Status.STATUS_CODE_ERROR
        dst.status.message = s.error


def build_request(
    spans: Sequence[SpanSpec], agents: Sequence[AgentProfile]
) -> ExportTraceServiceRequest:
    """Group ``spans`` by agent resource into one export request (order preserved)."""
    req = ExportTraceServiceRequest()
    by_agent: dict[int, ResourceSpans] = {}
    for s in spans:
        rs = by_agent.get(s.agent)
        if rs is None:
            rs = req.resource_spans.add()
            rs.resource.attributes.extend(kv(k, v) for k, v in agents[s.agent].resource)
            scope = rs.scope_spans.add()
            scope.scope.name = _SCOPE_NAME
            scope.scope.version = _SCOPE_VERSION
            by_agent[s.agent] = rs
        _fill_span(rs.scope_spans[0].spans.add(), s)
    return req


@dataclass(frozen=True)
class Payload:
    """One serialized export request.

    Attributes:
        body: serialized ``ExportTraceServiceRequest``.
        spans: number of spans it holds.
        gzipped: ``body`` gzip-compressed (empty unless requested).
        traces: trace ids of its spans.
        llm_spans: how many of its spans are LLM calls.
    """

    body: bytes
    spans: int
    gzipped: bytes = b""
    traces: frozenset[bytes] = frozenset()
    llm_spans: int = 0


@dataclass
class Workload:
    """The generated payloads plus what a benchmark reports about them."""

    payloads: list[Payload]
    runs: int
    spans: int
    otlp_bytes: int
    llm_spans: int
    seconds: float

    @property
    def bytes_per_span(self) -> float:
        """Average serialized OTLP bytes per span."""
        return self.otlp_bytes / self.spans if self.spans else 0.0

    def typical(self) -> Payload:
        """Return the full-size payload in the middle of the workload."""
        full = [p for p in self.payloads if p.spans == max(q.spans for q in self.payloads)]
        return full[len(full) // 2]

    def head(self, spans: int) -> Workload:
        """Return the shortest leading part of the workload holding ``spans`` spans."""
        out: list[Payload] = []
        total = 0
        for p in self.payloads:
            if total >= spans:
                break
            out.append(p)
            total += p.spans
        return Workload(
            payloads=out,
            runs=len(frozenset().union(*(p.traces for p in out))),
            spans=total,
            otlp_bytes=sum(len(p.body) for p in out),
            llm_spans=sum(p.llm_spans for p in out),
            seconds=self.seconds,
        )


def iter_batches(cfg: GenConfig) -> Iterator[tuple[list[SpanSpec], list[AgentProfile]]]:
    """Yield batches of span specs in export order, as a BatchSpanProcessor would."""
    lex = Lexicon(cfg.seed, cfg.vocabulary)
    agents = make_agents(lex, cfg.seed, cfg.agents, cfg.prompt_chars)
    fleet = _Fleet(cfg, lex, agents)
    merged = heapq.merge(*(_worker(fleet, w) for w in range(cfg.concurrency)))
    batch: list[SpanSpec] = []
    for _, _, span in merged:
        batch.append(span)
        if len(batch) >= cfg.batch_spans:
            yield batch, agents
            batch = []
    if batch:
        yield batch, agents


def generate(cfg: GenConfig, *, gzip_bodies: bool = False, progress: bool = False) -> Workload:
    """Generate and serialize the whole workload described by ``cfg``."""
    t0 = time.perf_counter()
    payloads: list[Payload] = []
    traces: set[bytes] = set()
    total = llm = nbytes = 0
    for batch, agents in iter_batches(cfg):
        body = build_request(batch, agents).SerializeToString()
        gz = gzip.compress(body, compresslevel=6) if gzip_bodies else b""
        ids = frozenset(s.trace_id for s in batch)
        n_llm = sum(1 for s in batch if s.kind == Span.SPAN_KIND_CLIENT)
        payloads.append(Payload(body, len(batch), gz, ids, n_llm))
        traces.update(ids)
        total += len(batch)
        llm += n_llm
        nbytes += len(body)
        if progress and len(payloads) % 10 == 0:
            import sys

            print(f"  generated {total:,} spans ({nbytes / 1e6:,.0f} MB)", file=sys.stderr)
    return Workload(payloads, len(traces), total, nbytes, llm, time.perf_counter() - t0)


def gzip_ratio(body: bytes) -> float:
    """Return ``len(gzip(body)) / len(body)`` at the default gzip level."""
    return len(gzip.compress(body, compresslevel=6)) / len(body)


def _main() -> None:
    """Standalone check: generate, report sizes, and parse every request back."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--spans", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-spans", type=int, default=512)
    ap.add_argument("--concurrency", type=int, default=8)
    ns = ap.parse_args()
    cfg = GenConfig(
        seed=ns.seed, spans=ns.spans, batch_spans=ns.batch_spans, concurrency=ns.concurrency
    )
    wl = generate(cfg)
    parsed_spans = 0
    for p in wl.payloads:
        req = ExportTraceServiceRequest.FromString(p.body)
        n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        assert n == p.spans, (n, p.spans)
        parsed_spans += n
    typ = wl.typical()
    sizes = sorted(len(p.body) for p in wl.payloads)
    print(
        f"generated in {wl.seconds:.1f}s: {wl.runs:,} runs, {wl.spans:,} spans "
        f"({wl.llm_spans:,} LLM), {len(wl.payloads)} requests"
    )
    print(
        f"OTLP bytes: {wl.otlp_bytes:,} = {wl.bytes_per_span:,.0f} B/span; "
        f"request size min/median/max {sizes[0]:,}/{sizes[len(sizes) // 2]:,}/{sizes[-1]:,}"
    )
    print(f"gzip ratio of a typical request ({typ.spans} spans): {gzip_ratio(typ.body):.2%}")
    print(f"parsed back {parsed_spans:,} spans OK")


if __name__ == "__main__":
    _main()
