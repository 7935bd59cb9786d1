"""The declarations of the `Options` fields: what a check of one URL does (see declare.py).

Their order is the order of `--help`, after the run options of commands.py.
"""

from __future__ import annotations

import ipaddress
from typing import Final

from urlsweep.errors import OptionError
from urlsweep.options.declare import ALL_LIBRARY, Decl
from urlsweep.options.values import (
    DEFAULT_USER_AGENT,
    BasicAuth,
    HostRule,
    StatusSet,
    check_regex,
    parse_header,
)


def _regex(text: str) -> str:
    check_regex(text)
    return text


_PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


def _proxy(text: str) -> str:
    """A proxy libcurl can use, refused here rather than as a broken record per URL."""
    from urllib.parse import urlsplit

    spec = text.strip()
    if not spec:
        return spec  # empty: no proxy, as libcurl reads it
    url = spec if "://" in spec else f"http://{spec}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OptionError(f"bad proxy {text!r}: {exc}") from None
    if parts.scheme.lower() not in _PROXY_SCHEMES:
        raise OptionError(
            f"bad proxy {text!r}: the scheme must be one of {', '.join(_PROXY_SCHEMES)}"
        )
    if not parts.hostname or any(c.isspace() for c in spec) or (parts.path not in ("", "/")):
        raise OptionError(f"bad proxy {text!r} (want e.g. http://proxy.example:3128)")
    del port
    return spec


def _network(text: str) -> str:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise OptionError(f"bad network {text!r} (want e.g. 10.0.0.0/8 or ::1)") from None
    return text


REQUEST: Final[tuple[Decl, ...]] = (
    Decl(
        "workers",
        "int",
        128,
        "Concurrent checks: requests in flight at once (in a crawl too).",
        short="-w",
        lo=1,
        hi=10_000,
        library=ALL_LIBRARY,
        example="7",
    ),
    Decl(
        "timeout",
        "float",
        10.0,
        "Total deadline in seconds per attempt: connect, TLS and response headers.",
        short="-t",
        lo=0.001,
        hi=3600,
        library=ALL_LIBRARY,
        example="2.5",
    ),
    Decl(
        "method",
        "choice",
        "head",
        "HEAD falls back to GET on 4xx/5xx or a protocol error.",
        short="-m",
        choices=("head", "get"),
        profile=True,
        library=ALL_LIBRARY,
        example="get",
    ),
    Decl(
        "max_redirects",
        "int",
        10,
        "Redirect hops to follow (each is recorded).",
        lo=0,
        hi=100,
        profile=True,
        library=ALL_LIBRARY,
        example="3",
    ),
    Decl(
        "accept",
        "custom",
        StatusSet(),
        "Statuses counted as ok, e.g. 200-299,403.",
        parse=StatusSet.parse,
        pytype=StatusSet,
        default_text="200-299",
        profile=True,
        library=ALL_LIBRARY,
        example="200-299,403",
    ),
    Decl(
        "insecure",
        "bool",
        False,
        "Do not verify TLS certificates.",
        short="-k",
        profile=True,
        trust=True,
        library=ALL_LIBRARY,
    ),
    Decl(
        "ca_cert",
        "path",
        None,
        "PEM bundle of trusted CAs (default: Mozilla's, via certifi).",
        exists=True,
        profile=True,
        trust=True,
        library=ALL_LIBRARY,
        example="ca.pem",
    ),
    Decl(
        "user_agent",
        "str",
        DEFAULT_USER_AGENT,
        "User-Agent header to send.",
        short="-A",
        profile=True,
        show_default=False,
        library=ALL_LIBRARY,
        example="probe/1",
    ),
    Decl(
        "headers",
        "custom",
        (),
        "Extra request header 'Name: value' (repeatable).",
        short="-H",
        flag="--header",
        multiple=True,
        parse=parse_header,
        pytype=tuple,
        profile=True,
        library=ALL_LIBRARY,
        example="X-Team: docs",
    ),
    Decl(
        "queue_size",
        "int",
        0,
        "Results waiting for the caller at most (0: derived from workers).",
        lo=0,
        cli=False,
        config=False,
        library=ALL_LIBRARY,
        example="64",
    ),
    Decl(
        "max_per_host",
        "int",
        8,
        "Requests in flight to one host (scheme, host, port) at most.",
        lo=1,
        hi=10_000,
        library=ALL_LIBRARY,
        example="2",
    ),
    Decl(
        "rate_limit",
        "float",
        None,
        "Requests per second per host at most (default: unlimited).",
        lo=0.001,
        hi=100_000,
        metavar="R",
        library=ALL_LIBRARY,
        example="50",
    ),
    Decl(
        "retries",
        "int",
        2,
        "Retries after a connect error, timeout, 429, 502, 503 or 504.",
        lo=0,
        hi=20,
        library=ALL_LIBRARY,
        example="0",
    ),
    Decl(
        "backoff",
        "float",
        0.5,
        "First retry waits about this long, doubling each time (with jitter).",
        lo=0,
        hi=600,
        metavar="SECONDS",
        library=ALL_LIBRARY,
        example="0.25",
    ),
    Decl(
        "max_retry_wait",
        "float",
        60.0,
        "Longest wait before a retry, whatever Retry-After says.",
        lo=0,
        hi=86_400,
        metavar="SECONDS",
        library=ALL_LIBRARY,
        example="5",
    ),
    Decl(
        "read_ahead",
        "int",
        20_000,
        "Input URLs held waiting for a worker, at most (bounds memory).",
        lo=1,
        hi=10_000_000,
        library=ALL_LIBRARY,
        example="100",
    ),
    Decl(
        "include",
        "custom",
        (),
        "Check only URLs matching REGEX (repeatable); others are skipped.",
        multiple=True,
        parse=_regex,
        metavar="REGEX",
        profile=True,
        library=ALL_LIBRARY,
        example="example",
    ),
    Decl(
        "exclude",
        "custom",
        (),
        "Skip URLs matching REGEX (repeatable).",
        multiple=True,
        parse=_regex,
        metavar="REGEX",
        profile=True,
        library=ALL_LIBRARY,
        example="logout",
    ),
    Decl(
        "schemes",
        "choice",
        ("http", "https"),
        "Schemes to check (repeatable); other URLs are skipped.",
        flag="--scheme",
        choices=("http", "https"),
        multiple=True,
        profile=True,
        library=ALL_LIBRARY,
        example="https",
    ),
    Decl(
        "deny_private",
        "bool",
        False,
        "Refuse loopback, private, link-local and unique-local addresses, on every hop.",
        profile=True,
        library=ALL_LIBRARY,
    ),
    Decl(
        "allow_nets",
        "custom",
        (),
        "Exception to --deny-private, e.g. 10.1.2.0/24 (repeatable).",
        flag="--allow-net",
        multiple=True,
        parse=_network,
        metavar="CIDR",
        profile=True,
        library=ALL_LIBRARY,
        example="10.1.2.0/24",
    ),
    Decl(
        "basic_auth",
        "custom",
        (),
        "Basic auth for URLs matching REGEX, never sent to another host (repeatable).",
        multiple=True,
        parse=BasicAuth.parse,
        pytype=BasicAuth,
        metavar="'REGEX USER:PASS'",
        profile=True,
        library=ALL_LIBRARY,
        example="example user:pw",
    ),
    Decl(
        "cookies",
        "bool",
        False,
        "Keep cookies across requests (one jar per run).",
        profile=True,
        library=ALL_LIBRARY,
    ),
    Decl(
        "proxy",
        "custom",
        None,
        "Proxy for every request (default: from http_proxy, HTTPS_PROXY, NO_PROXY).",
        metavar="URL",
        parse=_proxy,
        trust=True,
        library=ALL_LIBRARY,
        example="http://127.0.0.1:3128",
    ),
    Decl(
        "system_ca",
        "bool",
        False,
        "Trust the operating system's CA store instead of Mozilla's (certifi).",
        profile=True,
        library=ALL_LIBRARY,
    ),
    Decl(
        "hosts",
        "custom",
        (),
        'Per-host overrides, from [hosts."name"] tables in a config file.',
        multiple=True,
        pytype=HostRule,
        profile=True,
        cli=False,
        config=False,  # its own tables, read by cli/config.py
        library=ALL_LIBRARY,
    ),
    Decl(
        "credential_hosts",
        "str",
        None,
        "Where secret headers may go; set by runs that discover links, not by a person.",
        multiple=True,
        cli=False,
        config=False,
    ),
)
