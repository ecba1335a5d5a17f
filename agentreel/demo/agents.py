"""The demo's cast: agents, their models, tools and the texts their runs are made of.

Plain data, so the generator stays about behaviour. Model names are ones the shipped price
table knows, some with the date suffixes providers answer with.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    #: Argument name → example values the demo picks from.
    arguments: dict[str, tuple[str, ...]]
    #: Result texts the demo picks from ({arg} fields are filled from the arguments).
    results: tuple[str, ...]
    #: Error type a failing call of this tool reports.
    error_type: str = "TimeoutError"

    def definition(self) -> dict[str, object]:
        """The tool as an OTel GenAI tool definition (``gen_ai.tool.definitions``)."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in self.arguments},
                "required": list(self.arguments),
            },
        }


@dataclass(frozen=True)
class Agent:
    name: str
    service: str
    environment: str
    provider: str
    #: (request model, response model) before and after the routing shift.
    model: tuple[str, str]
    shifted_model: tuple[str, str]
    system: str
    tools: tuple[Tool, ...]
    #: The tool this agent's router prefers before the shift, and the one it drifts to.
    preferred_tool: str
    shifted_tool: str
    questions: tuple[str, ...]
    runs_per_day: int
    #: Share of runs that fail (a tool error, a rate limit, or the agent gives up).
    failure_rate: float
    users: tuple[str, ...] = field(default=("u-ana", "u-ben", "u-chen", "u-dara", "u-eli"))


#: What the support agent searches for, in the order of its questions.
_SUPPORT_QUERIES = (
    "reset password",
    "refund policy",
    "order tracking",
    "shipping times Canada",
    "damaged item refund",
)
_SEARCH_KB = Tool(
    "search_kb",
    "Search the help-center articles.",
    {"query": _SUPPORT_QUERIES},
    (
        "Article 112 '{query}': Go to Settings > Account. Steps: 1) open the page, 2) follow "
        "the prompt, 3) confirm by email. Applies to all plans since March.",
        "Article 87 '{query}': Refunds are possible within 30 days for annual plans; monthly "
        "plans are not refunded but can be cancelled at any time.",
    ),
)
_SEARCH_WEB = Tool(
    "search_web",
    "Search the public web.",
    {"query": _SUPPORT_QUERIES},
    ("Top result for '{query}': a community forum thread from last year (may be outdated).",),
)
_GET_ORDER = Tool(
    "get_order",
    "Look up an order by id.",
    {"order_id": ("A-1041", "A-2210", "B-0007", "C-3133")},
    ('{{"order_id": "{order_id}", "status": "shipped", "total_usd": 129.0, "items": 3}}',),
)
_REFUND = Tool(
    "refund_order",
    "Refund an order (amounts over $500 need a human).",
    {"order_id": ("A-1041", "A-2210", "B-0007"), "amount_usd": ("19.00", "129.00", "740.00")},
    ('{{"refund_id": "R-{order_id}", "amount_usd": {amount_usd}, "state": "queued"}}',),
    error_type="PaymentGatewayError",
)
_FETCH = Tool(
    "fetch_paper",
    "Fetch a paper's abstract by arXiv id.",
    {"arxiv_id": ("2310.06825", "2401.04088", "2305.10601", "2210.03629")},
    (
        "Abstract of {arxiv_id}: We study tool-using language agents and show that "
        "planning before acting reduces errors by a third on long tasks. " * 3,
    ),
)
_SEARCH_PAPERS = Tool(
    "search_papers",
    "Search papers by topic.",
    {"topic": ("agent evaluation", "tool routing", "context compression", "reward hacking")},
    ("Found 5 papers on {topic}: 2310.06825, 2401.04088, 2305.10601, 2210.03629, 2402.01030",),
)
_RUN_SQL = Tool(
    "run_sql",
    "Run a read-only SQL query on the billing warehouse.",
    {"sql": ("SELECT sum(amount) FROM invoices WHERE month = '2026-10'",)},
    ('{{"rows": [[48210.55]], "elapsed_ms": 84}}',),
    error_type="QueryTimeout",
)
_LOOKUP_INVOICE = Tool(
    "lookup_invoice",
    "Find an invoice by number.",
    {"invoice": ("INV-2026-0912", "INV-2026-1034", "INV-2026-1107")},
    ('{{"invoice": "{invoice}", "amount_usd": 1290.0, "paid": false, "due": "2026-12-01"}}',),
)
_CLASSIFY = Tool(
    "classify_ticket",
    "Classify a ticket into a queue.",
    {"text": ("app crashes on login", "charged twice", "how do I export data")},
    ('{{"queue": "technical", "priority": "p2"}}', '{{"queue": "billing", "priority": "p1"}}'),
)
_ASSIGN = Tool(
    "assign_queue",
    "Put a ticket in a queue.",
    {"queue": ("technical", "billing", "general")},
    ('{{"ticket": "T-5512", "queue": "{queue}", "position": 4}}',),
)

AGENTS: tuple[Agent, ...] = (
    Agent(
        name="support-agent",
        service="support-bot",
        environment="production",
        provider="openai",
        model=("gpt-4o", "gpt-4o-2024-08-06"),
        shifted_model=("gpt-4o", "gpt-4o-2024-08-06"),
        system="You are Acme's support agent. Answer from the help center; be brief and kind.",
        tools=(_SEARCH_KB, _SEARCH_WEB, _GET_ORDER, _REFUND),
        preferred_tool="search_kb",
        shifted_tool="search_web",
        questions=(
            "How do I reset my password?",
            "Can I get a refund for order A-1041?",
            "Where is my order A-2210?",
            "How long does shipping to Canada take?",
            "Please refund order B-0007, it arrived broken.",
        ),
        runs_per_day=34,
        failure_rate=0.07,
    ),
    Agent(
        name="research-agent",
        service="research-assistant",
        environment="production",
        provider="anthropic",
        model=("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022"),
        shifted_model=("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022"),
        system="You are a research assistant. Cite arXiv ids for every claim.",
        tools=(_SEARCH_PAPERS, _FETCH),
        preferred_tool="search_papers",
        shifted_tool="search_papers",
        questions=(
            "Summarize recent work on agent evaluation.",
            "What is known about tool routing errors?",
            "Compare context compression methods for long agent runs.",
        ),
        runs_per_day=14,
        failure_rate=0.05,
    ),
    Agent(
        name="billing-agent",
        service="billing-ops",
        environment="production",
        provider="openai",
        model=("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        shifted_model=("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        system="You answer finance questions from the billing warehouse. Never guess numbers.",
        tools=(_RUN_SQL, _LOOKUP_INVOICE),
        preferred_tool="run_sql",
        shifted_tool="run_sql",
        questions=(
            "What did we invoice in October?",
            "Is invoice INV-2026-0912 paid?",
            "Which customers are overdue?",
        ),
        runs_per_day=18,
        failure_rate=0.12,
    ),
    Agent(
        name="triage-agent",
        service="support-bot",
        environment="staging",
        provider="openai",
        model=("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        shifted_model=("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        system="Route each incoming ticket to the right queue.",
        tools=(_CLASSIFY, _ASSIGN),
        preferred_tool="classify_ticket",
        shifted_tool="classify_ticket",
        questions=(
            "Ticket: app crashes on login since the update",
            "Ticket: I was charged twice this month",
            "Ticket: how do I export my data?",
        ),
        runs_per_day=22,
        failure_rate=0.04,
    ),
)

ANSWERS = (
    "Here is what I found: {fact} Let me know if anything is unclear.",
    "Done. {fact}",
    "Based on the records: {fact}",
)
