"""One unit of work: an input line screened (normalised, deduplicated) into what a check needs.

Apart from the pipeline so that every driver and feeder (the multi driver, worker threads,
worker processes, the Dask client) shares it without importing the pipeline itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from urlsweep import result as R
from urlsweep.engine.dedup import DigestSet, url_digest
from urlsweep.engine.stats import Stats
from urlsweep.inputs import Target
from urlsweep.probe import steps as probe
from urlsweep.result import Result
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
        return probe.invalid(target.raw, exc, sources)
    return Work(target.raw, url, sources)


def screen_unique(
    targets: Iterable[Target], cancel: threading.Event, stats: Stats
) -> Iterator[Result | tuple[Work, int]]:
    """Each distinct input URL once, as (work, digest); a record for each unusable line.

    Shared by every feeder (this engine, the Dask client): duplicates are counted in `stats`,
    not yielded, and reading stops as soon as `cancel` is set.
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
            yield work, digest
        else:
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
