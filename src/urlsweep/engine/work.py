"""One unit of work: an input line screened (normalised, deduplicated) into what a check needs.

Apart from the pipeline so that every driver and feeder (the multi driver, worker threads,
worker processes, the Dask client) shares it without importing the pipeline itself.

It also holds the one codec in which work and records cross process boundaries, to
`--processes` workers and to Dask tasks alike: a batch is one `bytes` blob, a pickled list
of plain tuples. One blob per batch matters on Dask, which otherwise walks and serialises
a list element by element; plain tuples (no dataclasses, no dicts) keep pickling in C.
An input line is screened once, by whoever reads the input: the blob carries the
normalised URL, and the receiving engine checks it as is (`Engine(work=...)`).
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from urlsweep import result as R
from urlsweep.engine.dedup import DigestSet, url_digest
from urlsweep.engine.stats import Stats
from urlsweep.inputs import Target
from urlsweep.result import Hop, Result, build_result
from urlsweep.urls import InvalidURL, normalise


@dataclass(slots=True)  # not frozen: one per URL, and a frozen init costs 3x
class Work:
    raw: str
    url: str
    sources: tuple[str, ...]


def screen(target: Target) -> Work | Result:
    """One input line as work to do, or as the record saying why it cannot be checked."""
    sources = (target.source,) if target.source else ()
    if target.invalid:
        return Result(url=target.raw, error=R.INVALID_URL, detail=target.invalid, sources=sources)
    try:
        url = normalise(target.raw)
    except InvalidURL as exc:
        # Imported here: the main process of --processes screens but never loads libcurl.
        from urlsweep.probe.steps import invalid

        return invalid(target.raw, exc, sources)
    return Work(target.raw, url, sources)


class Pending:
    """The URLs read and not reported yet: a later line with the same URL adds its source to
    the one waiting, so the record lists every line that has it (not only the first).

    Shared by the reader (which adds and merges) and whoever receives the record: the engine
    that settles a check (`done`), or the main process of --processes and the Dask client
    (`sources_of`, by the URL as written, which the record keeps).
    """

    __slots__ = ("_lock", "_raw", "_works")

    def __init__(self) -> None:
        self._works: dict[str, Work] = {}  # by normalised URL
        self._raw: dict[str, str] = {}  # URL as written -> normalised
        self._lock = threading.Lock()

    def add(self, work: Work) -> None:
        with self._lock:
            self._works[work.url] = work
            if work.raw != work.url:  # most lines are written as normalised already
                self._raw[work.raw] = work.url

    def merge(self, url: str, source: str | None) -> None:
        if source is None:
            return
        with self._lock:
            work = self._works.get(url)
            if work is not None and source not in work.sources:
                work.sources = (*work.sources, source)

    def done(self, work: Work) -> tuple[str, ...]:
        """Every source of `work` (its URL is reported now: later lines come too late)."""
        with self._lock:
            self._works.pop(work.url, None)
            self._raw.pop(work.raw, None)
            return work.sources

    def completed(self, result: Result) -> Result:
        """`result` with every source its URL had in the input (a record from elsewhere)."""
        with self._lock:
            url = self._raw.pop(result.url, result.url) if self._raw else result.url
            work = self._works.pop(url, None)
        if work is None or len(work.sources) <= len(result.sources):
            return result
        return dataclasses.replace(result, sources=work.sources)


def screen_unique(
    targets: Iterable[Target],
    cancel: threading.Event,
    stats: Stats,
    pending: Pending | None = None,
) -> Iterator[Result | tuple[Work, int]]:
    """Each distinct input URL once, as (work, digest); a record for each unusable line.

    Shared by every feeder (this engine, the Dask client): duplicates are counted in `stats`,
    not yielded (with `pending`, their sources join the URL's while it waits), and reading
    stops as soon as `cancel` is set.
    """
    seen = DigestSet()
    for target in targets:
        if cancel.is_set():
            return
        work = screen(target)
        if isinstance(work, Result):
            yield work
            continue
        digest = url_digest(work.url)
        if seen.insert(digest):
            if pending is not None:
                pending.add(work)
            yield work, digest
        else:
            if pending is not None:
                pending.merge(work.url, target.source)
            stats.add(duplicates=1)


def internal_error(work: Work, exc: Exception) -> Result:
    """The record of a URL whose check raised: a bug must cost one record, not the run."""
    return Result(
        url=work.raw,
        final_url=work.url,
        error=R.PROTOCOL,
        detail=f"internal error: {exc!r}",
        sources=work.sources,
    )


# -- the codec -------------------------------------------------------------------------
_PROTOCOL: Final = 5  # pickle's, fixed so that client and workers of two Pythons agree


def pack_work(batch: Sequence[Work]) -> bytes:
    """Screened work as one blob (the other end does not normalise again)."""
    return pickle.dumps([(w.raw, w.url, w.sources) for w in batch], _PROTOCOL)


def unpack_work(blob: bytes) -> list[Work]:
    return [Work(raw, url, sources) for raw, url, sources in pickle.loads(blob)]


def pack_results(batch: Iterable[Result]) -> bytes:
    """Records as one blob: their fields in declaration order, redirects as pairs."""
    rows: list[tuple[Any, ...]] = []
    for r in batch:
        hops = tuple((h.url, h.status) for h in r.redirects) if r.redirects else ()
        rows.append(
            (
                r.url,
                r.final_url,
                r.status,
                r.ok,
                r.outcome,
                r.error,
                r.detail,
                hops,
                r.method,
                r.elapsed_ms,
                r.attempts,
                r.ip,
                r.sources,
                r.via,
                r.attempt_ms,
            )
        )
    return pickle.dumps(rows, _PROTOCOL)


def unpack_results(blob: bytes) -> list[Result]:
    out: list[Result] = []
    for row in pickle.loads(blob):
        if row[7]:
            row = (*row[:7], tuple(Hop(u, s) for u, s in row[7]), *row[8:])
        out.append(build_result(*row))
    return out
