"""Where one URL is checked: HEAD with GET fallback, redirects followed hop by hop."""

from __future__ import annotations

import time
from urllib.parse import urljoin

from . import result as R
from .options import Options
from .result import Hop, Result
from .transport import Response, Transport
from .urls import InvalidURL, is_reserved_invalid, normalise, request_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _fallback_to_get(resp: Response) -> bool:
    """HEAD is cheap but often badly served: retry with GET when its answer is suspect."""
    if resp.error is not None:
        return resp.error == R.PROTOCOL
    return resp.status is not None and resp.status >= 400


def fetch(
    transport: Transport, url: str, options: Options, max_body: int = 0
) -> tuple[Response, str]:
    """One hop: the response and the method that produced it (GET whenever a body is wanted)."""
    if options.method == "get" or max_body > 0:
        return transport.request(request_url(url), "GET", max_body=max_body), "GET"
    resp = transport.request(request_url(url), "HEAD")
    if _fallback_to_get(resp):
        return transport.request(request_url(url), "GET"), "GET"
    return resp, "HEAD"


def check_one(
    transport: Transport,
    raw: str,
    url: str,
    options: Options,
    sources: tuple[str, ...] = (),
) -> Result:
    """Check the already normalised `url` (given by the user as `raw`) and build its record."""
    return walk(transport, raw, url, options, sources)[0]


def walk(
    transport: Transport,
    raw: str,
    url: str,
    options: Options,
    sources: tuple[str, ...] = (),
    max_body: int = 0,
) -> tuple[Result, Response | None]:
    """Follow `url` hop by hop to its final answer: the record, and the last response
    (with up to `max_body` bytes of body, for callers that read pages)."""
    started = time.monotonic()
    hops: list[Hop] = []
    current = url
    resp: Response | None = None
    method: str | None = None

    def done(**fields: object) -> tuple[Result, Response | None]:
        record = Result(
            url=raw,
            final_url=current,
            redirects=tuple(hops),
            method=method,
            elapsed_ms=round((time.monotonic() - started) * 1000.0, 1),
            attempts=1,
            ip=resp.ip if resp is not None else None,
            sources=sources,
            **fields,  # type: ignore[arg-type]
        )
        return record, resp

    for _ in range(options.max_redirects + 1):
        if is_reserved_invalid(current):
            return done(error=R.DNS, detail="reserved name under .invalid never resolves")
        resp, method = fetch(transport, current, options, max_body)
        if resp.error is not None:
            return done(error=resp.error, detail=resp.detail)
        status = resp.status
        assert status is not None
        location = resp.header("location")
        if status in REDIRECT_STATUSES and location:
            try:
                target = normalise(urljoin(request_url(current), location))
            except InvalidURL as exc:
                hops.append(Hop(current, status))
                return done(
                    status=status, error=exc.error, detail=f"redirect to {location!r}: {exc}"
                )
            if "#" not in target and "#" in current:
                target += "#" + current.split("#", 1)[1]
            hops.append(Hop(current, status))
            current = target
            continue
        ok = status in options.accept
        return done(
            status=status,
            ok=ok,
            outcome=R.OK if ok else R.BROKEN,
            detail="" if ok else f"HTTP {status}",
        )
    last = hops[-1].status if hops else None
    return done(
        status=last,
        error=R.TOO_MANY_REDIRECTS,
        detail=f"more than {options.max_redirects} redirects",
    )


def invalid(raw: str, exc: InvalidURL, sources: tuple[str, ...] = ()) -> Result:
    """The record for an input line that is not a checkable URL."""
    return Result(url=raw, error=exc.error, detail=str(exc), sources=sources)
