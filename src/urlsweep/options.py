"""Every knob of a check, in one frozen value shared by the CLI, the library and workers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ._version import __version__

DEFAULT_USER_AGENT = f"urlsweep/{__version__} (+https://pypi.org/project/urlsweep/)"


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
    queue_size: int = 0  # 0: derived from workers

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise OptionError("workers must be at least 1")
        if not self.timeout > 0:
            raise OptionError("timeout must be a positive number of seconds")
        if self.method not in ("head", "get"):
            raise OptionError("method must be 'head' or 'get'")
        if self.max_redirects < 0:
            raise OptionError("max_redirects must be 0 or more")

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
        return cls(**kwargs)


def parse_header(text: str) -> tuple[str, str]:
    """``'K: V'`` -> ``('K', 'V')``; rejects what libcurl would send malformed."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise OptionError(f"bad header {text!r} (want 'Name: value')")
    return name, value
