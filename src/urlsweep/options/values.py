"""The value types of options (status ranges, per-host rules, credentials) and their parsers.

Light on purpose: the engine, workers and the command line all import them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from urlsweep._version import __version__
from urlsweep.errors import OptionError

DEFAULT_USER_AGENT = f"urlsweep/{__version__} (+https://pypi.org/project/urlsweep/)"

# Headers whose values are credentials (docs/security.md): the transport sends them only to
# the hosts the user named, the store never writes their values, and a config file found by
# search may not set them. The well-known names, and any name that looks like one.
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


@dataclass(frozen=True, slots=True)
class StatusSet:
    """Accepted statuses as inclusive ranges, e.g. ``200-299,403``."""

    ranges: tuple[tuple[int, int], ...] = ((200, 299),)

    def __contains__(self, status: object) -> bool:
        if not isinstance(status, int):
            return False
        # A loop, not any(<genexpr>): asked once per answer, and the generator cost 3.4 %
        # of a worker's Python (py-spy --gil, 200,000 URLs).
        for lo, hi in self.ranges:  # noqa: SIM110
            if lo <= status <= hi:
                return True
        return False

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
