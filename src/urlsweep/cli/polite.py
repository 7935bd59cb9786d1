"""The command-line options of politeness and trust (docs/politeness.md).

One decorator so every checking command offers the same flags; their parameter names are
`Options` field names, so the values go straight into `Options(**...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from urlsweep.options import BasicAuth, OptionError, check_regex

F = TypeVar("F", bound=Callable[..., Any])
FAIL_ON_CHOICES = ("unverifiable", "skipped")


def _regexes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        for pattern in value:
            check_regex(pattern)
    except OptionError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _basic_auth(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[BasicAuth, ...]:
    try:
        return tuple(BasicAuth.parse(v) for v in value)
    except OptionError as exc:
        raise click.BadParameter(str(exc)) from None


_OPTIONS: tuple[Callable[[F], F], ...] = (
    click.option(
        "--max-per-host",
        type=click.IntRange(1, 10_000),
        default=8,
        show_default=True,
        help="Requests in flight to one host (scheme, host, port) at most.",
    ),
    click.option(
        "--rate-limit",
        type=click.FloatRange(0.001, 100_000),
        default=None,
        metavar="R",
        help="Requests per second per host at most (default: unlimited).",
    ),
    click.option(
        "--retries",
        type=click.IntRange(0, 20),
        default=2,
        show_default=True,
        help="Retries after a connect error, timeout, 429, 502, 503 or 504.",
    ),
    click.option(
        "--backoff",
        type=click.FloatRange(0, 600),
        default=0.5,
        show_default=True,
        metavar="SECONDS",
        help="First retry waits about this long, doubling each time (with jitter).",
    ),
    click.option(
        "--max-retry-wait",
        type=click.FloatRange(0, 86_400),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="Longest wait before a retry, whatever Retry-After says.",
    ),
    click.option(
        "--read-ahead",
        type=click.IntRange(1, 10_000_000),
        default=20_000,
        show_default=True,
        help="Input URLs held waiting for a worker, at most (bounds memory).",
    ),
    click.option(
        "--include",
        multiple=True,
        callback=_regexes,
        metavar="REGEX",
        help="Check only URLs matching REGEX (repeatable); others are skipped.",
    ),
    click.option(
        "--exclude",
        multiple=True,
        callback=_regexes,
        metavar="REGEX",
        help="Skip URLs matching REGEX (repeatable).",
    ),
    click.option(
        "--scheme",
        "schemes",
        type=click.Choice(["http", "https"]),
        multiple=True,
        default=("http", "https"),
        show_default=True,
        help="Schemes to check (repeatable); other URLs are skipped.",
    ),
    click.option(
        "--deny-private",
        is_flag=True,
        help="Refuse loopback, private, link-local and unique-local addresses, on every hop.",
    ),
    click.option(
        "--allow-net",
        "allow_nets",
        multiple=True,
        metavar="CIDR",
        help="Exception to --deny-private, e.g. 10.1.2.0/24 (repeatable).",
    ),
    click.option(
        "--basic-auth",
        multiple=True,
        callback=_basic_auth,
        metavar="'REGEX USER:PASS'",
        help="Basic auth for URLs matching REGEX, never sent to another host (repeatable).",
    ),
    click.option("--cookies", is_flag=True, help="Keep cookies across requests (one jar per run)."),
    click.option(
        "--proxy",
        default=None,
        metavar="URL",
        help="Proxy for every request (default: from http_proxy, HTTPS_PROXY, NO_PROXY).",
    ),
    click.option(
        "--system-ca",
        is_flag=True,
        help="Trust the operating system's CA store instead of Mozilla's (certifi).",
    ),
)


# The parameter names of the options above: each is an `Options` field.
POLITE_NAMES = (
    "max_per_host",
    "rate_limit",
    "retries",
    "backoff",
    "max_retry_wait",
    "read_ahead",
    "include",
    "exclude",
    "schemes",
    "deny_private",
    "allow_nets",
    "basic_auth",
    "cookies",
    "proxy",
    "system_ca",
)


def take_politeness(params: dict[str, Any]) -> dict[str, Any]:
    """Remove the politeness values from a command's `params`, as `Options` keywords."""
    return {name: params.pop(name) for name in POLITE_NAMES if name in params}


def politeness_options(f: F) -> F:
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def fail_on_option(f: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(FAIL_ON_CHOICES),
        multiple=True,
        help="Also exit 1 when a URL has this outcome (repeatable; broken always fails).",
    )(f)


def config_options(f: F) -> F:
    f = click.option(
        "--no-config",
        is_flag=True,
        help="Ignore urlsweep.toml and [tool.urlsweep] in pyproject.toml.",
    )(f)
    return click.option(
        "--config",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="Settings file (default: ./urlsweep.toml, else [tool.urlsweep] in pyproject.toml).",
    )(f)
