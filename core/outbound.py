"""Where the server may send HTTP requests of its own.

Re-sending an LLM call (``base_url``) and alert webhooks take URLs from whoever holds an API
key, so the server checks each one against ``outbound_hosts`` before it sends anything: a
comma list of ``host``, ``host:port``, ``*.domain`` (its subdomains) or ``*`` (anywhere).

With auth on, link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata
services answer) and ``fd00:ec2::254`` are refused even under ``*`` or ``*.domain``; only an
entry naming that host exactly lets the server send there. Hosts are checked as written in
the URL (numeric forms such as ``2852039166`` are read as the address they stand for); a
listed name is trusted to resolve where its owner says.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

SETTING = "outbound_hosts (AGENTREEL_OUTBOUND_HOSTS)"
#: What a server with auth on may reach when ``outbound_hosts`` is not set.
AUTH_DEFAULT = "api.openai.com,api.anthropic.com,hooks.slack.com"
_PORTS = {"http": 80, "https": 443}
_METADATA = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


class OutboundError(ValueError):
    """The server may not send to this URL; the message names the host and the setting."""


class UnusableURL(OutboundError):
    """Not an http(s) URL with a host; the message reads "not a usable URL: ..."."""


@dataclass(frozen=True)
class Pattern:
    host: str  # canonical host, "*" (any) or "*.domain"
    port: int | None = None  # None: any port

    @property
    def exact(self) -> bool:
        return not self.host.startswith("*")

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


def parse_hosts(raw: str) -> tuple[Pattern, ...]:
    """The patterns of a comma list; ValueError naming the entry that is not one."""
    out = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            out.append(Pattern("*"))
            continue
        host, port = _split(item)
        wild = host.startswith("*.")
        if "*" in (host[2:] if wild else host) or not host.strip("*."):
            raise ValueError(f"{item!r}: '*' may only stand alone or start '*.domain'")
        out.append(Pattern(host if wild else _canonical(host), port))
    return tuple(out)


def _split(item: str) -> tuple[str, int | None]:
    """``host`` or ``host:port`` (``[v6]:port``) of one entry."""
    if "/" in item or "@" in item:
        raise ValueError(f"{item!r}: give a host, host:port or *.domain, not a URL")
    host, port = item, None
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        if rest:
            port = _port(item, rest.removeprefix(":"))
    elif item.count(":") == 1:
        host, _, text = item.partition(":")
        port = _port(item, text)
    return host.lower().rstrip("."), port


def _port(item: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 65535:
        raise ValueError(f"{item!r}: the port must be a number from 1 to 65535")
    return int(text)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # What the resolver would read as IPv4: 2852039166, 0251.0376.0251.0376, 169.254.43518.
        if not host or any(c not in "0123456789abcdefx." for c in host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _canonical(host: str) -> str:
    host = host.lower().rstrip(".")
    address = _address(host)
    return host if address is None else str(address)


@dataclass(frozen=True)
class Policy:
    patterns: tuple[Pattern, ...]
    #: Refuse link-local/metadata addresses unless a pattern names them exactly.
    guard_metadata: bool = False

    @classmethod
    def from_setting(cls, hosts: str, auth_on: bool) -> Policy:
        """The policy of ``outbound_hosts``; empty means ``*`` with auth off, else
        :data:`AUTH_DEFAULT`."""
        patterns = parse_hosts(hosts or (AUTH_DEFAULT if auth_on else "*"))
        return cls(patterns, guard_metadata=auth_on)

    def check(self, url: str) -> None:
        """Return when the server may send to ``url``; raise :class:`OutboundError` if not."""
        # The URL is read by the client that will send to it, so the host checked is the host
        # it connects to. Only server code sends; importing httpx here keeps core light.
        import httpx

        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise UnusableURL(f"not a usable URL: {exc}") from None
        if parsed.scheme not in _PORTS or not parsed.host:
            raise UnusableURL("not a usable URL: it needs http:// or https:// and a host")
        host = _canonical(parsed.host)
        port = parsed.port or _PORTS[parsed.scheme]
        shown = f"[{host}]" if ":" in host else host
        shown = shown if parsed.port is None else f"{shown}:{port}"
        if any(p.exact and p.matches(host, port) for p in self.patterns):
            return
        address = _address(host)
        if self.guard_metadata and address is not None and any(address in n for n in _METADATA):
            raise OutboundError(
                f"{shown} is a link-local or cloud metadata address; the server sends there "
                f"only when {SETTING} names it exactly"
            )
        if not any(p.matches(host, port) for p in self.patterns):
            raise OutboundError(
                f"the server may not send to {shown}: it is not in {SETTING}; "
                "the server's operator can add it there"
            )


_policy = Policy((Pattern("*"),))


def configure(policy: Policy) -> Policy:
    """Make ``policy`` the one :func:`check` applies (the server does at start); returns the
    previous one."""
    global _policy
    previous, _policy = _policy, policy
    return previous


def check(url: str) -> None:
    """Raise :class:`OutboundError` unless the configured policy lets the server send to
    ``url``."""
    _policy.check(url)
