"""Every knob of a check, in one frozen value shared by the CLI, the library and workers."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from urlsweep._version import __version__

DEFAULT_USER_AGENT = f"urlsweep/{__version__} (+https://pypi.org/project/urlsweep/)"

# Headers whose values are credentials (docs/security.md): the transport sends them only to
# the hosts the user named, and the store never writes their values. The well-known names,
# and any name that looks like one (X-Auth-Token, X-Goog-Api-Key, X-CSRF-Token, ...).
SECRET_HEADERS = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "X-Api-Key",
    "Private-Token",
    "X-Auth-Token",
)
_SECRET_HEADER = re.compile(
    r"auth|cookie|token|key|secret|session|passw|credential|signature|csrf|xsrf|jwt|bearer", re.I
)


def is_secret_header(name: str) -> bool:
    """Whether header `name` carries a credential (one list for the transport and the store)."""
    return _SECRET_HEADER.search(name) is not None


class OptionError(ValueError):
    """A bad option value; the CLI turns it into a usage error (exit 2)."""


@dataclass(frozen=True, slots=True)
class StatusSet:
    """Accepted statuses as inclusive ranges, e.g. ``200-299,403``."""

    ranges: tuple[tuple[int, int], ...] = ((200, 299),)

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and any(lo <= status <= hi for lo, hi in self.ranges)

    @classmethod
    def parse(cls, spec: str) -> StatusSet:
        ranges: list[tuple[int, int]] = []
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            lo_s, sep, hi_s = part.partition("-")
            try:
                lo = int(lo_s)
                hi = int(hi_s) if sep else lo
            except ValueError:
                raise OptionError(f"bad status {part!r} (want e.g. 200-299,403)") from None
            if not (100 <= lo <= hi <= 999):
                raise OptionError(f"bad status range {part!r} (statuses are 100-999)")
            ranges.append((lo, hi))
        if not ranges:
            raise OptionError("empty status list")
        return cls(tuple(ranges))

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


OUTCOME_NAMES = ("ok", "broken", "unverifiable", "skipped")


@dataclass(frozen=True, slots=True)
class HostRule:
    """Per-host overrides from a config file's ``[hosts."name"]`` table.

    `pattern` is ``host``, ``host:port`` or ``*.domain``; unset fields fall back to the run's.
    """

    pattern: str
    max_per_host: int | None = None
    rate_limit: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    accept: StatusSet | None = None

    def __post_init__(self) -> None:
        if not self.pattern or any(c in self.pattern for c in "/ \t@"):
            raise OptionError(
                f"bad host pattern {self.pattern!r} (want host, host:port or *.domain)"
            )
        if self.max_per_host is not None and self.max_per_host < 1:
            raise OptionError("max_per_host must be at least 1")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise OptionError("rate_limit must be a positive number of requests per second")


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """Credentials sent to URLs matching `pattern` (a regex searched in the URL)."""

    pattern: str
    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, spec: str) -> BasicAuth:
        """``'URL-REGEX user:pass'``: the credentials are the last space-separated word."""
        regex, _, creds = spec.strip().rpartition(" ")
        user, sep, password = creds.partition(":")
        if not regex.strip() or not sep or not user:
            raise OptionError("bad --basic-auth value (want 'URL-REGEX user:password')")
        return cls(regex.strip(), user, password)


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
    # Where secret headers may go (docs/security.md): host keys ("https://host:443") and
    # --follow-host names ("host", "host:port"). None: to each input URL's own host. Set by
    # runs that discover links (crawl, sitemaps, --extract, documents) to the hosts named.
    credential_hosts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise OptionError("workers must be at least 1")
        if not self.timeout > 0:
            raise OptionError("timeout must be a positive number of seconds")
        if self.method not in ("head", "get"):
            raise OptionError("method must be 'head' or 'get'")
        if self.max_redirects < 0:
            raise OptionError("max_redirects must be 0 or more")
        if self.max_per_host < 1:
            raise OptionError("max_per_host must be at least 1")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise OptionError("rate_limit must be a positive number of requests per second")
        if self.read_ahead < 1:
            raise OptionError("read_ahead must be at least 1")
        if self.retries < 0:
            raise OptionError("retries must be 0 or more")
        if self.backoff < 0 or self.max_retry_wait < 0:
            raise OptionError("backoff and max_retry_wait must be 0 or more seconds")
        bad = sorted(set(self.schemes) - {"http", "https"})
        if bad or not self.schemes:
            raise OptionError(f"schemes must be http and/or https, not {', '.join(bad) or 'none'}")
        if self.system_ca and self.ca_cert:
            raise OptionError("give either ca_cert or system_ca, not both")
        for pattern in (*self.include, *self.exclude, *(a.pattern for a in self.basic_auth)):
            check_regex(pattern)
        for net in self.allow_nets:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise OptionError(f"bad network {net!r} (want e.g. 10.0.0.0/8 or ::1)") from None

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Options:
        """Build from library keyword arguments; accepts a str `accept` and dict `headers`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        if isinstance(kwargs.get("accept"), str):
            kwargs["accept"] = StatusSet.parse(kwargs["accept"])
        headers = kwargs.get("headers")
        if isinstance(headers, dict):
            kwargs["headers"] = tuple(headers.items())
        elif headers is not None:
            kwargs["headers"] = tuple(tuple(h) for h in headers)
        for name in ("include", "exclude", "schemes", "allow_nets"):
            if isinstance(kwargs.get(name), str):
                kwargs[name] = (kwargs[name],)
            elif kwargs.get(name) is not None:
                kwargs[name] = tuple(kwargs[name])
        auth = kwargs.get("basic_auth")
        if auth is not None:
            auth = [auth] if isinstance(auth, str | BasicAuth) else auth
            kwargs["basic_auth"] = tuple(
                a if isinstance(a, BasicAuth) else BasicAuth.parse(a) for a in auth
            )
        if kwargs.get("hosts") is not None:
            kwargs["hosts"] = tuple(kwargs["hosts"])
        return cls(**kwargs)


def check_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise OptionError(f"bad regular expression {pattern!r}: {exc}") from None


def parse_header(text: str) -> tuple[str, str]:
    """``'K: V'`` -> ``('K', 'V')``; rejects what libcurl would send malformed."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise OptionError(f"bad header {text!r} (want 'Name: value')")
    return name, value
