"""The result record: one per checked URL, the only thing that flows out of the engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal

# Error categories. A record has at most one; `None` means the server answered.
INVALID_URL: Final = "invalid_url"
UNSUPPORTED_SCHEME: Final = "unsupported_scheme"
DNS: Final = "dns"
CONNECT: Final = "connect"
TLS: Final = "tls"
TIMEOUT: Final = "timeout"
TOO_MANY_REDIRECTS: Final = "too_many_redirects"
PROTOCOL: Final = "protocol"
BLOCKED: Final = "blocked"  # refused address (--deny-private)
EXCLUDED: Final = "excluded"  # left out by --include/--exclude/--scheme
MISSING_FILE: Final = "missing_file"  # a link to a local file that does not exist
MISSING_FRAGMENT: Final = "missing_fragment"  # the page is there, its #anchor is not
OUTSIDE_ROOT: Final = "outside_root"  # a local link leading out of the documents' root

# The same names as types mypy can check (a test keeps them equal to ERRORS and OUTCOMES).
ErrorName = Literal[
    "invalid_url",
    "unsupported_scheme",
    "dns",
    "connect",
    "tls",
    "timeout",
    "too_many_redirects",
    "protocol",
    "blocked",
    "excluded",
    "missing_file",
    "missing_fragment",
    "outside_root",
]
Outcome = Literal["ok", "broken", "unverifiable", "skipped", "tolerated"]

ERRORS: Final = (
    INVALID_URL,
    UNSUPPORTED_SCHEME,
    DNS,
    CONNECT,
    TLS,
    TIMEOUT,
    TOO_MANY_REDIRECTS,
    PROTOCOL,
    BLOCKED,
    EXCLUDED,
    MISSING_FILE,
    MISSING_FRAGMENT,
    OUTSIDE_ROOT,
)

# Outcomes: what a person should do about the URL.
OK: Final = "ok"
BROKEN: Final = "broken"
UNVERIFIABLE: Final = "unverifiable"
SKIPPED: Final = "skipped"
# Not ok, but failing for fewer runs in a row than --fail-after asks: not flagged yet.
TOLERATED: Final = "tolerated"
OUTCOMES: Final = (OK, BROKEN, UNVERIFIABLE, SKIPPED, TOLERATED)

# The userinfo of a URL anywhere in a text: scheme, then the user up to the first ":", then
# the password up to the last "@" of the authority (a raw "@" in a password is allowed;
# quotes, "<", ">" and spaces are percent-encoded in a URL, so they end it).
_USERINFO: Final = re.compile(
    r"(?i)\b([a-z][a-z0-9+.-]*:[/\\]{2})([^\s/\\?#@:\"<>`]*)(:[^\s/\\?#\"<>`]*)?@"
)
MASK: Final = "***"


def mask_userinfo(text: str) -> str:
    """`text` with the password of every URL in it replaced by ``***`` (a lone user name,
    often a token, too): what is shown, logged or stored; the check itself keeps the real one.

    The one masking function: records leaving the engine, store keys, run inputs and log
    lines all pass through it (docs/security.md).
    """
    if "@" not in text:
        return text
    return _USERINFO.sub(_masked, text)


def _masked(m: re.Match[str]) -> str:
    scheme, user, password = m.groups()
    if password is None:
        return f"{scheme}{MASK}@" if user else m.group()
    return f"{scheme}{user}:{MASK}@"


FIELDS: Final = (
    "url",
    "final_url",
    "status",
    "ok",
    "outcome",
    "error",
    "detail",
    "redirects",
    "method",
    "elapsed_ms",
    "attempts",
    "attempt_ms",
    "ip",
    "sources",
    "via",
)


@dataclass(frozen=True, slots=True)
class Hop:
    """One redirect answered on the way to the final URL."""

    url: str
    status: int

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status}


@dataclass(frozen=True, slots=True)
class Result:
    """What urlsweep learned about one URL.

    `url` is exactly what the input said, so people can find the line they wrote;
    `final_url` is where the redirects (all recorded in `redirects`) ended. `elapsed_ms` is
    the whole check, from its first request to its answer (waits between retries included);
    `attempt_ms` holds each attempt's own time.
    """

    url: str
    final_url: str | None = None
    status: int | None = None
    ok: bool = False
    outcome: Outcome = BROKEN
    error: ErrorName | None = None
    detail: str = ""
    redirects: tuple[Hop, ...] = ()
    method: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 0
    ip: str | None = None
    sources: tuple[str, ...] = field(default=())
    # where in the documents the link was found: `element[attribute]`, each once ("a[href]")
    via: tuple[str, ...] = field(default=())
    attempt_ms: tuple[float, ...] = ()

    @property
    def category(self) -> str:
        """The bucket a summary counts this record in: the error, or `http_NNN`/`ok`."""
        if self.error is not None:
            return self.error
        if self.ok:
            return OK
        if self.status is None:
            return self.outcome  # not an HTTP answer: a skipped link, a local file
        return f"http_{self.status}"

    def _has_at(self) -> bool:
        """Whether any field `masked` looks at holds an "@": plain tests, no generator (this
        runs for every record, on the thread that receives them)."""
        if "@" in self.url or "@" in self.detail:
            return True
        if self.final_url is not None and "@" in self.final_url:
            return True
        for text in self.sources:
            if "@" in text:
                return True
        return any("@" in h.url for h in self.redirects) if self.redirects else False

    def masked(self) -> Result:
        """This record as it may be shown or kept: URL passwords replaced by ``***``.

        Applied once where records leave the engine (the CLI's run, watch, the store's
        writer); the record itself when no field holds an "@" (the common case, no copy).
        """
        if not self._has_at():
            return self
        return replace(
            self,
            url=mask_userinfo(self.url),
            final_url=None if self.final_url is None else mask_userinfo(self.final_url),
            detail=mask_userinfo(self.detail),
            redirects=tuple(Hop(mask_userinfo(h.url), h.status) for h in self.redirects),
            sources=tuple(mask_userinfo(s) for s in self.sources),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "ok": self.ok,
            "outcome": self.outcome,
            "error": self.error,
            "detail": self.detail,
            "redirects": [h.to_dict() for h in self.redirects],
            "method": self.method,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "attempts": self.attempts,
            "attempt_ms": [round(ms, 1) for ms in self.attempt_ms],
            "ip": self.ip,
            "sources": list(self.sources),
            "via": list(self.via),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        """Inverse of `to_dict`, for stores, caches and other processes."""
        return cls(
            url=d["url"],
            final_url=d.get("final_url"),
            status=d.get("status"),
            ok=bool(d.get("ok")),
            outcome=d.get("outcome") or (OK if d.get("ok") else BROKEN),
            error=d.get("error"),
            detail=d.get("detail") or "",
            redirects=tuple(Hop(h["url"], int(h["status"])) for h in d.get("redirects") or ()),
            method=d.get("method"),
            elapsed_ms=float(d.get("elapsed_ms") or 0.0),
            attempts=int(d.get("attempts") or 0),
            ip=d.get("ip"),
            sources=tuple(d.get("sources") or ()),
            via=tuple(d.get("via") or ()),
            attempt_ms=tuple(float(ms) for ms in d.get("attempt_ms") or ()),
        )


def _builder() -> Callable[..., Result]:
    """`Result(*values)` for every field in declaration order, without the frozen dataclass's
    `__init__`, which sets each field through `object.__setattr__`: 1.5 µs a record where
    this takes 0.8 (measured, 15 fields), and a run builds two records per URL with
    --processes (the check's, then its copy from the pipe). The record is the same: same
    class, fields, equality and hash, frozen afterwards as ever."""
    names = [f.name for f in fields(Result)]
    setters = {f"_set_{n}": getattr(Result, n).__set__ for n in names}
    code = (
        f"def build({', '.join(names)}):\n    r = _new(_Result)\n"
        + "".join(f"    _set_{n}(r, {n})\n" for n in names)
        + "    return r\n"
    )
    scope: dict[str, Any] = {"_new": object.__new__, "_Result": Result, **setters}
    exec(code, scope)  # our own field names, nothing from outside
    return scope["build"]  # type: ignore[no-any-return]


build_result: Final = _builder()
