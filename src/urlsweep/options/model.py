"""`Options`: every knob of a check, in one frozen value shared by the CLI, library and workers.

Each field is declared in table.py; `__post_init__` checks every value against its
declaration, so a wrong type or range is an OptionError naming the option wherever the value
came from (a flag, a config file, a library keyword, a worker process).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final

from urlsweep.errors import OptionError
from urlsweep.options.table import BY_NAME
from urlsweep.options.values import (
    DEFAULT_USER_AGENT,
    BasicAuth,
    HostRule,
    StatusSet,
    parse_header,
)


@dataclass(frozen=True, slots=True)
class Options:
    """Options of one check run. Defaults are what a careful user would pick."""

    workers: int = 128
    timeout: float = 10.0
    method: str = "head"
    max_redirects: int = 10
    accept: StatusSet = field(default_factory=StatusSet)
    insecure: bool = False
    ca_cert: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    headers: tuple[tuple[str, str], ...] = ()
    queue_size: int = 0  # results waiting for the caller; 0: derived from workers
    # Politeness (docs/politeness.md): per-host limits, retries, policy, credentials.
    max_per_host: int = 8
    rate_limit: float | None = None  # requests per second per host; None: unlimited
    read_ahead: int = 20_000  # input lines held waiting for a worker, at most
    retries: int = 2
    backoff: float = 0.5  # first retry waits about this long, doubling each time
    max_retry_wait: float = 60.0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ("http", "https")
    deny_private: bool = False
    allow_nets: tuple[str, ...] = ()  # exceptions to deny_private, as CIDR networks
    basic_auth: tuple[BasicAuth, ...] = ()
    cookies: bool = False
    proxy: str | None = None
    system_ca: bool = False
    hosts: tuple[HostRule, ...] = ()
    max_page_links: int = 10_000  # links taken from one page or document; 0: all
    # Where secret headers may go (docs/security.md): host keys ("https://host:443") and
    # --follow-host names ("host", "host:port"). None: to each input URL's own host. Set by
    # runs that discover links (crawl, sitemaps, --extract, documents) to the hosts named.
    credential_hosts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            checked = BY_NAME[f.name].check(value)
            if (checked is not value and checked != value) or type(checked) is not type(value):
                object.__setattr__(self, f.name, checked)
        for name, value in self.headers:
            if not (isinstance(name, str) and isinstance(value, str)):
                raise OptionError(f"headers: want ('Name', 'value') pairs, not {(name, value)!r}")
            parse_header(f"{name}: {value}")
        if not self.schemes:
            raise OptionError("schemes: want http and/or https, not none")
        if self.system_ca and self.ca_cert:
            raise OptionError("give either ca_cert or system_ca, not both")
        if self.ca_cert is not None:
            _holds_certificate(self.ca_cert)

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Options:
        """Build from library keyword arguments.

        Friendlier spellings are accepted: `accept="200-299,403"`, `headers={"K": "v"}` or
        `["K: v"]`, one string for a list option (`include="docs"`), `basic_auth` as
        `'REGEX user:pass'` strings. Anything else of the wrong type is an OptionError that
        names the option; an unknown keyword is a TypeError, as for any Python function.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        headers = kwargs.get("headers")
        if isinstance(headers, dict):
            kwargs["headers"] = tuple((str(k), str(v)) for k, v in headers.items())
        elif isinstance(headers, str):
            kwargs["headers"] = (parse_header(headers),)
        elif isinstance(headers, list | tuple):
            kwargs["headers"] = tuple(
                parse_header(h) if isinstance(h, str) else tuple(h) for h in headers
            )
        for name in ("include", "exclude", "schemes", "allow_nets", "basic_auth", "hosts"):
            value = kwargs.get(name)
            if isinstance(value, str | BasicAuth | HostRule):
                kwargs[name] = (value,)
        return cls(**kwargs)


_PEM: Final = b"-----BEGIN CERTIFICATE-----"
_CA_BYTES: Final = 16 * 1024 * 1024  # a CA bundle is ~200 kB; more is not one


def _holds_certificate(path: str) -> None:
    """ca_cert must hold a PEM certificate: libcurl would otherwise fail every check."""
    try:
        with open(path, "rb") as f:
            head = f.read(_CA_BYTES)
    except OSError as exc:
        raise OptionError(f"ca_cert: {path}: {exc.strerror or exc}") from None
    if _PEM not in head:
        raise OptionError(f"ca_cert: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
