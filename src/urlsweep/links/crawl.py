"""A recursive crawl (and `--extract`): pages are fetched and parsed in engine workers.

The crawler feeds the ordinary Engine through `Frontier`, an iterator over a queue that ends
when nothing is queued and no page is still being read. Workers run `Crawler._check`: a page
in scope is fetched once (GET, size-capped), its links are taken and offered to the frontier,
and its body is dropped; everything else is checked like any URL. Results are held until the
crawl ends, because a URL can be found on one more page until the last page is read, and each
record lists every page that links to it.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from urlsweep import result as R
from urlsweep.engine.pipeline import Engine
from urlsweep.inputs import Target
from urlsweep.links.extract import Link
from urlsweep.links.graph import AnchorStore, LinkIndex, missing_fragments, url_key, with_sources
from urlsweep.links.pages import check_with_anchors, fetch_page
from urlsweep.links.robots import Robots
from urlsweep.links.sitemap import MAX_NESTING, Entry, fetch_remote
from urlsweep.options import Options
from urlsweep.probe import steps as probe
from urlsweep.probe.transport import Transport
from urlsweep.result import Result
from urlsweep.urls import InvalidURL, host_key, normalise

_POLL = 0.1
# Extensions that are never HTML pages: checked, not downloaded to be parsed.
_NOT_PAGES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".svg",
        ".webp",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".avif",
        ".css",
        ".js",
        ".mjs",
        ".map",
        ".json",
        ".xml",
        ".txt",
        ".csv",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".tar",
        ".rar",
        ".exe",
        ".dmg",
        ".iso",
        ".deb",
        ".rpm",
        ".whl",
        ".mp3",
        ".mp4",
        ".m4a",
        ".ogg",
        ".wav",
        ".webm",
        ".mov",
        ".avi",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
    ]
)


@lru_cache(maxsize=4096)
def _origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def resolve_link(base: str, href: str) -> tuple[str, str | None] | None:
    """(url to check, fragment or None) for `href` found on a page whose base is `base`."""
    href = href.strip()
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        absolute = _origin(base) + href  # root-relative: the common case, no urljoin
    else:
        absolute = urljoin(base, href)
    absolute, sep, fragment = absolute.partition("#")
    key = url_key(absolute)
    if key is None:
        return None
    return key, (fragment if sep else None)


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    depth: int | None = None  # None: unlimited; 0: only the start pages are read
    follow_hosts: tuple[str, ...] = ()  # more hosts to crawl ("host" or "host:port")
    robots: bool = True
    max_pages: int | None = None
    sitemap: bool = True  # seed from the start host's sitemaps
    check_fragments: bool = False


class Frontier:
    """The crawl's queue of URLs, iterated by the engine's feeder until the crawl is over."""

    def __init__(self, stopped: Callable[[], bool]) -> None:
        self._queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0  # pages offered and not yet read: they may offer more
        self._stopped = stopped

    def offer(self, url: str, page: bool) -> None:
        if page:
            with self._lock:
                self._pending += 1
        self._queue.put(url)

    def page_done(self) -> None:
        with self._lock:
            self._pending -= 1

    def __iter__(self) -> Iterator[Target]:
        while not self._stopped():
            try:
                yield Target(self._queue.get(timeout=_POLL))
            except queue.Empty:
                with self._lock:
                    if self._pending == 0 and self._queue.empty():
                        return


class Crawler:
    """Crawl from `seeds` and check every link found. A `ResultSource`: iterate it once."""

    def __init__(self, seeds: Sequence[str], options: Options, crawl: CrawlOptions) -> None:
        self.crawl = crawl
        self.options = options
        self.index = LinkIndex()
        self.anchors = AnchorStore()
        self.robots = Robots(options.user_agent)
        self._lock = threading.Lock()
        self._depth: dict[str, int] = {}  # pages to read -> their depth
        self._read: set[str] = set()  # pages whose links were taken (also redirect targets)
        self._settled: set[str] = set()  # pages whose record came out of the engine
        self._pages_read = 0
        self._scope: set[str] = set()
        self._sitemaps: set[str] = set()
        self._invalid: list[Result] = []
        self._cancelled = threading.Event()
        self.frontier = Frontier(self._is_stopped)
        self.engine = Engine(self.frontier, options, checker=self._check)
        self.stats = self.engine.stats
        for seed in seeds:
            try:
                url = normalise(seed).split("#", 1)[0]
            except InvalidURL as exc:
                self._invalid.append(probe.invalid(seed, exc))
                continue
            self._scope.add(host_key(url))
            if self.index.add(url, None):
                with self._lock:
                    self._depth[url] = 0
                self.frontier.offer(url, page=True)
        self._follow = {h.lower().rstrip("/") for h in crawl.follow_hosts}

    def _is_stopped(self) -> bool:
        return self._cancelled.is_set() or self.engine.cancelled

    def cancel(self) -> None:
        self._cancelled.set()
        self.engine.cancel()

    # -- scope ------------------------------------------------------------------------------
    def in_scope(self, url: str) -> bool:
        if host_key(url) in self._scope:
            return True
        parts = urlsplit(url)
        return (parts.hostname or "") in self._follow or parts.netloc.lower() in self._follow

    def _wants_page(self, url: str, link: Link, depth: int) -> bool:
        if not link.is_page or link.nofollow or not self.in_scope(url):
            return False
        if self.crawl.depth is not None and depth > self.crawl.depth:
            return False
        return os.path.splitext(urlsplit(url).path)[1].lower() not in _NOT_PAGES

    def _offer(self, href: str, base: str, source: str, link: Link, depth: int) -> None:
        found = resolve_link(base, href)
        if found is None:
            return  # mailto:, javascript:, data: ...
        url, fragment = found
        if not self.index.add(url, source, fragment):
            return
        page = self._wants_page(url, link, depth)
        if page:
            with self._lock:
                self._depth[url] = depth
        self.frontier.offer(url, page)

    # -- engine workers ---------------------------------------------------------------------
    def _check(
        self,
        transport: Transport,
        raw: str,
        url: str,
        options: Options,
        sources: tuple[str, ...],
    ) -> Result:
        with self._lock:
            depth = self._depth.get(raw)
        if self.crawl.robots and self.in_scope(url) and not self.robots.allowed(transport, url):
            return Result(
                url=raw, final_url=url, outcome=R.SKIPPED, detail="disallowed by robots.txt"
            )
        if depth is not None:
            with self._lock:
                budget = self.crawl.max_pages is None or self._pages_read < self.crawl.max_pages
                if budget:
                    self._pages_read += 1
            if budget:
                return self._read_page(transport, raw, url, options, sources, depth)
        if self.crawl.check_fragments and self.index.fragments(raw):
            return check_with_anchors(transport, raw, url, options, sources, self.anchors)
        return probe.check_one(transport, raw, url, options, sources)

    def _read_page(
        self,
        transport: Transport,
        raw: str,
        url: str,
        options: Options,
        sources: tuple[str, ...],
        depth: int,
    ) -> Result:
        page = fetch_page(transport, raw, url, options, sources)
        final = (page.result.final_url or url).split("#", 1)[0]
        if depth == 0 and self.crawl.sitemap:
            self._seed_sitemaps(transport, url, options)
        if page.links is None:
            return page.result
        self.anchors.put(raw, page.links.anchors)
        self.anchors.put(final, page.links.anchors)
        with self._lock:
            if final in self._read:  # reached again through a redirect: read once
                return page.result
            self._read.update((raw, final))
        for link in page.links.links:
            self._offer(link.href, page.base, final, link, depth + 1)
        return page.result

    def _seed_sitemaps(self, transport: Transport, url: str, options: Options) -> None:
        """Pages listed in the start host's sitemaps, as if linked from the start page."""
        listed = self.robots.sitemaps(transport, url) if self.crawl.robots else []
        for sitemap in listed or [urljoin(url, "/sitemap.xml")]:
            self._read_sitemap(transport, sitemap, options, nesting=0)

    def _read_sitemap(
        self, transport: Transport, sitemap: str, options: Options, nesting: int
    ) -> None:
        try:
            where = normalise(sitemap)
        except InvalidURL:
            return
        with self._lock:
            if where in self._sitemaps or not self.in_scope(where):
                return
            self._sitemaps.add(where)
        nested: list[str] = []
        entry_link = Link("", 0, "a")

        def on_entry(entry: Entry) -> None:
            if entry.kind == "sitemap":
                nested.append(entry.loc)
            else:
                self._offer(entry.loc, where, where, entry_link, 1)

        fetch_remote(transport, where, options, on_entry)
        if nesting < MAX_NESTING:
            for child in nested:
                self._read_sitemap(transport, child, options, nesting + 1)

    # -- the caller's thread --------------------------------------------------------------
    def _settle(self, result: Result) -> None:
        """A page's record arrived: it offered all its links (or none, if the engine
        refused it: policy, invalid URL), so the frontier stops waiting for it."""
        with self._lock:
            page = result.url in self._depth and result.url not in self._settled
            if page:
                self._settled.add(result.url)
        if page:
            self.frontier.page_done()

    def __iter__(self) -> Iterator[Result]:
        held = list(self._invalid)
        for result in self.engine:
            self._settle(result)
            held.append(result)
        for result in held:
            record = with_sources(result, self.index)
            yield record
            if self.crawl.check_fragments:
                yield from missing_fragments(
                    record, self.index.fragments(record.url), self.anchors.get(record.url)
                )


def crawl_site(
    start: str | Sequence[str],
    *,
    depth: int | None = None,
    follow_hosts: Sequence[str] = (),
    robots: bool = True,
    max_pages: int | None = None,
    sitemap: bool = True,
    check_fragments: bool = False,
    **options: object,
) -> Iterator[Result]:
    """Crawl a site from `start` and yield a Result for every link found (see `Crawler`).

    `options` are the keyword options of `urlsweep.check` (workers, timeout, ...).
    """
    seeds = [start] if isinstance(start, str) else list(start)
    crawl_options = CrawlOptions(
        depth=depth,
        follow_hosts=tuple(follow_hosts),
        robots=robots,
        max_pages=max_pages,
        sitemap=sitemap,
        check_fragments=check_fragments,
    )
    return iter(Crawler(seeds, Options.from_kwargs(**options), crawl_options))
