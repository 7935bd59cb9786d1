"""`--check-fragments` for URL lists: a page that lines point into with `#fragment`s is
downloaded once (GET, size-capped) and its anchors read, however many lines point into it.

Lines without a fragment are checked as usual (HEAD first). The first line with a fragment
for a page sends the one read of that page; later lines for it are only noted. When the input
is read to its end (so every fragment is known), the page's record comes, as the page URL with
every line that points into it, then one broken `missing_fragment` record per anchor the page
lacks. Memory: one entry per distinct page with fragments, and per (fragment, line).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator

from urlsweep.engine.pipeline import Engine
from urlsweep.engine.work import Work
from urlsweep.inputs import Target
from urlsweep.links.graph import AnchorStore, LinkIndex, missing_fragments, url_key
from urlsweep.links.pages import read_page
from urlsweep.options import Options
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.steps import Check
from urlsweep.result import Result


class ListFragments:
    """Check a URL list, verifying `#fragment`s. A `ResultSource`: iterate it once."""

    def __init__(self, targets: Iterable[Target], options: Options) -> None:
        self.index = LinkIndex()  # page -> fragment -> lines
        self.lines = LinkIndex()  # page -> the lines pointing into it, in input order
        self.anchors = AnchorStore()
        self._lock = threading.Lock()
        self._reads: dict[str, str] = {}  # the target (with its fragment) that reads a page
        self._pages: set[str] = set()  # pages whose read was sent
        self.engine = Engine(self._targets(targets), options, checker=self._check)
        self.stats = self.engine.stats

    def cancel(self) -> None:
        self.engine.cancel()

    # -- the engine's feeder thread -----------------------------------------------------------
    def _targets(self, targets: Iterable[Target]) -> Iterator[Target]:
        for target in targets:
            page, sep, fragment = target.raw.strip().partition("#")
            key = url_key(page) if sep and not target.invalid else None
            if key is None:
                yield target
                continue
            self.index.add(key, target.source or target.raw, fragment)
            self.lines.add(key, target.source or target.raw)
            with self._lock:
                first = key not in self._pages
                if first:
                    self._pages.add(key)
                    self._reads[target.raw] = key
            if first:
                yield target

    # -- checks, run by the engine's driver -----------------------------------------------------
    def _check(self, work: Work, host: str, context: CheckContext) -> Check:
        with self._lock:
            key = self._reads.get(work.raw)
        if key is None:
            return probe.steps(work.raw, work.url, context, work.sources, host=host)
        return self._read(work, key, context)

    def _read(self, work: Work, key: str, context: CheckContext) -> Check:
        page = yield from read_page(
            work.raw, work.url.partition("#")[0], context, work.sources, anchors_only=True
        )
        if page.links is not None:
            self.anchors.put(key, page.links.anchors)
        return page.result, None

    # -- the caller's thread ----------------------------------------------------------------
    def __iter__(self) -> Iterator[Result]:
        held: list[tuple[str, Result]] = []
        for result in self.engine:
            with self._lock:
                key = self._reads.get(result.url)
            if key is None:
                yield result
            else:
                held.append((key, result))
        for key, result in held:  # the input is read: every fragment of the page is known
            record = dataclasses.replace(result, url=key, sources=self.lines.sources(key))
            yield record
            yield from missing_fragments(record, self.index.fragments(key), self.anchors.get(key))
