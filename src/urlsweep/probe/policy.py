"""What may be checked, where, and with which credentials: decided once per URL or address.

Built from `Options` once per run (into the run's `CheckContext`) and shared read-only.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from urlsweep.options import HostRule, Options, StatusSet
from urlsweep.urls import InvalidURL, host_key, normalise

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class HostSettings:
    """The effective limits, extra headers and accepted statuses for one host."""

    max_per_host: int
    rate_limit: float | None
    headers: tuple[tuple[str, str], ...]
    accept: StatusSet


def address_kind(addr: IPAddress) -> str | None:
    """Why `addr` is not a public internet address, or None if it is one.

    Addresses that embed an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are judged by
    the embedded one too, so ``::ffff:127.0.0.1`` is as refused as ``127.0.0.1``.
    """
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = [addr.ipv4_mapped, addr.sixtofour, addr.teredo[1] if addr.teredo else None]
        if addr in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        for inner in embedded:
            if inner is not None and (kind := address_kind(inner)):
                return kind
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_multicast:
        return "multicast"
    if addr.is_private:
        return "unique-local" if isinstance(addr, ipaddress.IPv6Address) else "private"
    if not addr.is_global:
        return "not public"
    return None


def _host_port(host_key: str) -> tuple[str, int]:
    parts = urlsplit(host_key)
    return (parts.hostname or "").lower(), parts.port or 0


def _has_port(pattern: str) -> bool:
    return "]:" in pattern if pattern.startswith("[") else pattern.count(":") == 1


def _specificity(rule: HostRule) -> tuple[int, int]:
    """*.domain (longer suffixes more specific), then host, then host:port."""
    if rule.pattern.startswith("*."):
        return 0, len(rule.pattern)
    return (2 if _has_port(rule.pattern) else 1), 0


def _matches(rule: HostRule, host: str, port: int) -> bool:
    pattern = rule.pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if _has_port(pattern):
        shown = f"[{host}]" if ":" in host else host
        return pattern == f"{shown}:{port}"
    return pattern.strip("[]") == host


class Policy:
    def __init__(self, options: Options) -> None:
        self.options = options
        self._include = [re.compile(p) for p in options.include]
        self._exclude = [re.compile(p) for p in options.exclude]
        self._allow = [ipaddress.ip_network(n, strict=False) for n in options.allow_nets]
        self._auth = [
            (re.compile(a.pattern), _basic(a.user, a.password)) for a in options.basic_auth
        ]
        # Most specific last, so it wins: *.domain, then host, then host:port.
        self._rules = sorted(options.hosts, key=_specificity)
        self._default = HostSettings(options.max_per_host, options.rate_limit, (), options.accept)
        named = options.credential_hosts
        self._named = None if named is None else frozenset(h.lower() for h in named)
        self._credentials: dict[str, bool] = {}

    # -- which URLs ----------------------------------------------------------------------
    def excluded(self, url: str) -> str | None:
        """Why the input `url` is left out by --include/--exclude/--scheme, or None."""
        scheme = url.partition(":")[0].lower()
        if scheme not in self.options.schemes:
            return f"scheme {scheme} not in --scheme {','.join(self.options.schemes)}"
        if self._include and not any(p.search(url) for p in self._include):
            return "matches no --include pattern"
        for p in self._exclude:
            if p.search(url):
                return f"matches --exclude {p.pattern}"
        return None

    # -- which addresses -----------------------------------------------------------------
    @property
    def refuser(self) -> Callable[[str], str | None] | None:
        """`refused_address`, or None when no address is refused (no callbacks needed)."""
        return self.refused_address if self.options.deny_private else None

    def refused_address(self, ip: str) -> str | None:
        """Why a connection to `ip` must not be used, or None. Only with --deny-private."""
        if not self.options.deny_private:
            return None
        try:
            addr = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return f"unparseable address {ip!r}"
        if any(addr in net for net in self._allow):
            return None
        kind = address_kind(addr)
        return f"{kind} address {ip} refused (--deny-private)" if kind else None

    # -- per host ------------------------------------------------------------------------
    def host(self, host_key: str) -> HostSettings:
        if not self._rules:
            return self._default
        host, port = _host_port(host_key)
        s = self._default
        headers = list(s.headers)
        max_per_host, rate, accept = s.max_per_host, s.rate_limit, s.accept
        for rule in self._rules:
            if not _matches(rule, host, port):
                continue
            max_per_host = rule.max_per_host or max_per_host
            rate = rule.rate_limit or rate
            accept = rule.accept or accept
            headers.extend(rule.headers)
        return HostSettings(max_per_host, rate, tuple(headers), accept)

    def credentials_to(self, key: str) -> bool:
        """Whether secret headers may go to the host with `host_key` `key` (an input's own
        host when no run-wide list is set; else only a host the user named)."""
        named = self._named
        if named is None:
            return True
        known = self._credentials.get(key)
        if known is None:
            host, port = _host_port(key)
            shown = f"[{host}]" if ":" in host else host
            known = key.lower() in named or shown in named or f"{shown}:{port}" in named
            if len(self._credentials) < 4096:
                self._credentials[key] = known
        return known

    def authorization(self, url: str) -> str | None:
        """The Authorization value --basic-auth gives `url`, if any (first match wins)."""
        for pattern, value in self._auth:
            if pattern.search(url):
                return value
        return None


def confine_credentials(
    options: Options, named_urls: Iterable[str | None], hosts: Iterable[str] = ()
) -> Options:
    """`options` for a run that discovers links: secret headers go only to the hosts of
    `named_urls` (what the user typed) and `hosts` (--follow-host). A list already set is
    kept: a run never widens it."""
    if options.credential_hosts is not None:
        return options
    keys: list[str] = []
    for url in named_urls:
        if url is None:
            continue
        try:
            keys.append(host_key(normalise(url)))
        except (InvalidURL, ValueError):
            continue
    keys.extend(_host_name(h) for h in hosts)
    return options.replace(credential_hosts=tuple(dict.fromkeys(keys)))


def _host_name(entry: str) -> str:
    """A --follow-host value ("name" or "name:port") written as URLs are normalised."""
    text = entry.strip().rstrip("/")
    if "://" in text:
        text = urlsplit(text).netloc
    try:
        parts = urlsplit(normalise(f"http://{text}/"))
        port = urlsplit(f"http://{text}/").port
    except (InvalidURL, ValueError):
        return text.lower()
    name = parts.hostname or text.lower()
    shown = f"[{name}]" if ":" in name else name
    return shown if port is None else f"{shown}:{port}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
