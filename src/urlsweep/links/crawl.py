"""A recursive crawl (and `--extract`): pages are fetched and parsed as checks of the engine.

The crawler feeds the ordinary Engine through `Frontier`, an iterator over a queue that ends
when nothing is queued and no page is still being read. Each URL's check is
`Crawler._steps`, a generator of requests run by the engine's one driver like any check (so
robots.txt, sitemaps and pages count against the same host limits): a page in scope is
fetched once (GET, size-capped), its links are taken and offered to the frontier, and its
body is dropped; everything else is checked like any URL. A URL that can never be a page
(another host's, an image's) is checked as soon as it is first seen. Results wait for the
end of the crawl, because a URL can be found on one more page until the last page is read,
and each record lists every page that links to it; they wait on disk (`Spool`), not in
memory, and a broken one is told at once to `on_broken` (the terminal shows it).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Unpack
from urllib.parse import urljoin, urlsplit

from urlsweep import result as R
from urlsweep.engine.pipeline import Engine
from urlsweep.engine.work import Work
from urlsweep.errors import SourceError
from urlsweep.inputs import Target
from urlsweep.links.extract import Link
from urlsweep.links.graph import AnchorStore, LinkIndex, missing_fragments, url_key, with_sources
from urlsweep.links.mail import MailChecker, is_mail_or_phone
from urlsweep.links.pages import check_with_anchors, read_page
from urlsweep.links.resolve import resolve_url
from urlsweep.links.robots import Robots
from urlsweep.links.scope import DEFAULT_DEPTH as DEFAULT_DEPTH
from urlsweep.links.scope import DEFAULT_MAX_PAGES as DEFAULT_MAX_PAGES
from urlsweep.links.scope import CrawlOptions as CrawlOptions
from urlsweep.links.scope import Scope as Scope
from urlsweep.links.sitemap import MAX_NESTING, MAX_SITEMAPS, Entry, remote_steps
from urlsweep.links.spool import Spool
from urlsweep.options import Options
from urlsweep.options.keywords import CheckOptions
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.policy import confine_credentials
from urlsweep.result import Result
from urlsweep.urls import InvalidURL, normalise

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


class Frontier:
    """The crawl's queue of URLs, iterated by the engine's feeder until the crawl is over.

    Pages come first: the queue is open while a page offered may still offer more. Then
    `rest()` gives every other URL found, once the role of each is settled (a URL seen as
    an image first and as a page link later is a page: nothing was checked too early).
    """

    def __init__(self, stopped: Callable[[], bool], rest: Callable[[], Iterable[str]]) -> None:
        self._queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0  # pages offered and not yet read: they may offer more
        self._stopped = stopped
        self._rest = rest

    def offer(self, url: str) -> None:
        """A page to read."""
        with self._lock:
            self._pending += 1
        self._queue.put(url)

    def offer_other(self, url: str) -> None:
        """A URL to check now, which offers nothing (it is no page)."""
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
                        break
        for url in self._rest():
            if self._stopped():
                return
            yield Target(url)


class Crawler:
    """Crawl from `seeds` and check every link found. A `ResultSource`: iterate it once.

    What a URL is does not depend on the order pages are read in: any followable page link
    to it (an `<a>`, a `<link rel="next">` ...) makes it a page, read once; every other URL
    is checked after the last page is read. A page's depth is its shortest distance from the
    start: when a shorter path turns up after a page was read, the pages it links to are
    moved closer too (and read, if that brings them within `--depth`).
    """

    def __init__(self, seeds: Sequence[str], options: Options, crawl: CrawlOptions) -> None:
        self.crawl = crawl
        self._remap = crawl.remap
        if self._remap is not None:  # the crawl reads (and scopes, and robots) the new host
            seeds = [self._remap(seed.strip()) for seed in seeds]
        # Secret headers go to the start hosts and --follow-host only (docs/security.md).
        options = confine_credentials(options, seeds, crawl.follow_hosts)
        self.options = options
        self.index = LinkIndex()
        self.anchors = AnchorStore()
        self.robots = Robots(options.user_agent, crawl.max_crawl_delay)
        self._lock = threading.Lock()
        self._depth: dict[str, int] = {}  # URLs with a followable page link -> distance
        self._pages: set[str] = set()  # URLs offered to be read: their record is the read
        self._cdepth: dict[str, int] = {}  # content (a final URL) -> distance of its links - 1
        self._edges: dict[str, tuple[str, ...]] = {}  # content -> pages it links to
        self._final: dict[str, str] = {}  # page read -> its content (its final URL)
        self._taken: set[str] = set()  # content whose links were taken (once, whoever first)
        # Only --depth makes a page's distance matter beyond the start pages (0): without it,
        # the graph of what links to what is not kept.
        self._relax = crawl.depth is not None
        self._settled: set[str] = set()  # pages whose record came out of the engine
        self._exts: dict[str, str | None] = {}  # URL in scope -> its extension; None: out
        self._pages_read = 0
        self._scope = Scope(crawl.follow_hosts)
        self._sitemaps: set[str] = set()
        self._invalid: list[Result] = []
        self._mails = LinkIndex()  # mailto: and tel: links of the pages
        # URLs checked as soon as they were seen: they can never be pages. Not with
        # --check-fragments, where a fragment seen later decides whether the body is read.
        self._early: set[str] = set()
        self._check_early = not crawl.check_fragments
        self.spool = Spool()
        # Told of each broken result as it comes (the record itself comes at the end).
        self.on_broken: Callable[[Result], None] | None = None
        self._cancelled = threading.Event()
        self.frontier = Frontier(self._is_stopped, self._others)
        self.engine = Engine(self.frontier, options, checker=self._steps)
        self.stats = self.engine.stats
        offers: list[str] = []
        for seed in seeds:
            try:
                url = normalise(seed).split("#", 1)[0]
            except InvalidURL as exc:
                self._invalid.append(probe.invalid(seed, exc))
                continue
            self._scope.add_start(url)
            self.index.add(url, None)
            with self._lock:
                self._sighted(url, 0, offers)
        for url in offers:
            self.frontier.offer(url)

    def _is_stopped(self) -> bool:
        return self._cancelled.is_set() or self.engine.cancelled

    def cancel(self) -> None:
        self._cancelled.set()
        self.engine.cancel()

    # -- scope ------------------------------------------------------------------------------
    def in_scope(self, url: str) -> bool:
        return url in self._scope

    def _followable(self, url: str, link: Link) -> bool:
        """Whether this sighting of `url` is a link to a page to read (depth aside). Asked
        of every sighting, so what depends on the URL alone (its host, its name) is kept."""
        ext = self._exts.get(url, "?")
        if ext == "?":
            # (an invalid URL is in no scope: the engine says why it cannot be checked)
            ext = os.path.splitext(urlsplit(url).path)[1].lower() if self.in_scope(url) else None
            self._exts[url] = ext
        if ext is None:
            return False
        if ext == ".css" and link.attr in ("href", "@import"):
            return True  # a stylesheet of the site: read for its url() and @import links
        if not link.is_page or link.nofollow:
            return False
        return ext not in _NOT_PAGES

    def _remapped(self, url: str) -> str:
        """`url` after --remap, as the record shows it: the URL that is checked (as lychee
        reports it), with the pages it was found on as sources."""
        if self._remap is None:
            return url
        new = self._remap(url)
        return url if new == url else url_key(new) or new

    def _never_page(self, url: str) -> bool:
        """Whether `url` (asked of `_followable` first) cannot be a page, however linked."""
        ext = self._exts.get(url, "?")
        return ext is None or (ext in _NOT_PAGES and ext != ".css")

    def _found(self, url: str) -> None:
        """A URL seen for the first time that is no page to read: checked now, if it can
        never be one (its role is known: nothing is checked too early)."""
        if self._check_early and self._never_page(url):
            with self._lock:
                self._early.add(url)
            self.frontier.offer_other(url)

    def _within(self, depth: int) -> bool:
        return self.crawl.depth is None or depth <= self.crawl.depth

    # -- the page graph (every method here runs with self._lock held) -----------------------
    def _sighted(self, url: str, depth: int, offers: list[str]) -> None:
        """A followable link puts `url` at `depth`: read it if that is new and within
        --depth; if it was read at a greater depth, what it links to moves closer too."""
        work = [(url, depth)]
        while work:
            url, depth = work.pop()
            known = self._depth.get(url)
            if known is not None and known <= depth:
                continue
            self._depth[url] = depth
            if url not in self._pages and self._within(depth):
                self._pages.add(url)
                offers.append(url)
            content = self._final.get(url) if self._relax else None
            if content is None:
                continue
            known = self._cdepth.get(content)
            if known is not None and known <= depth:
                continue
            self._cdepth[content] = depth
            work.extend((child, depth + 1) for child in self._edges.get(content, ()))

    def _others(self) -> Iterator[str]:
        """Every URL found that is not a page to read, once the last page is read."""
        for url in self.index.urls():
            with self._lock:
                done = url in self._pages or url in self._early
            if not done:
                yield url

    # -- checks, run by the engine's driver ----------------------------------------------
    def _steps(self, work: Work, host: str, context: CheckContext) -> probe.Check:
        """One URL of the crawl: robots.txt first (on a crawled host), then the page read
        (a page) or checked like any URL (everything else)."""
        raw, url = work.raw, work.url
        with self._lock:
            page = raw in self._pages
            deeper = not page and raw in self._depth  # a page link beyond --depth
        robots = self.crawl.robots and self.in_scope(url)
        if robots and not (yield from self.robots.allowed(url, context)):
            skipped = Result(
                url=raw, final_url=url, outcome=R.SKIPPED, detail="disallowed by robots.txt"
            )
            return skipped, None
        if robots:
            yield from self.robots.pace(url, context)  # the host's Crawl-delay, bounded
        if page:
            with self._lock:
                budget = self.crawl.max_pages is None or self._pages_read < self.crawl.max_pages
                if budget:
                    self._pages_read += 1
                seed = self._depth.get(raw) == 0
            if budget:
                if seed and self.crawl.sitemap:
                    yield from self._seed_sitemaps(url, context)
                return (yield from self._read_page(work, context))
            spent = f"page not read: the crawl's budget of {self.crawl.max_pages} pages is spent"
            result, last = yield from probe.steps(raw, url, context, work.sources, host=host)
            return dataclasses.replace(
                result, detail=result.detail or f"{spent} (--max-pages)"
            ), last
        if self.crawl.check_fragments and self.index.fragments(raw):
            result, last = yield from check_with_anchors(work, context, self.anchors)
        else:
            result, last = yield from probe.steps(raw, url, context, work.sources, host=host)
        if deeper and not result.detail:
            detail = f"page not read: more than {self.crawl.depth} links from the start (--depth)"
            return dataclasses.replace(result, detail=detail), last
        return result, last

    def _read_page(self, work: Work, context: CheckContext) -> probe.Check:
        raw, url = work.raw, work.url
        page = yield from read_page(raw, url, context, work.sources)
        final = (page.result.final_url or url).split("#", 1)[0]
        if page.links is None:
            return page.result, None
        if self.crawl.check_fragments:  # else neither anchors nor fragments are kept:
            self.anchors.put(raw, page.links.anchors)  # half the memory of a big crawl
            self.anchors.put(final, page.links.anchors)
        keep = self.crawl.check_fragments
        with self._lock:
            first = final not in self._taken
            self._taken.add(final)
        children: list[str] = []  # the pages it links to
        if first:  # resolved outside the lock: normalising is the costly part
            kinds = self.crawl.kinds
            for link in page.links.links:
                if kinds is not None and not kinds.wants(link):
                    continue
                if is_mail_or_phone(link.href):
                    self._mails.add(link.href.strip(), final, None, link.via)
                    continue
                found = resolve_url(page.base, link.href)
                if found is None:
                    continue  # mailto:, javascript:, data: ...
                child, fragment = found
                child = self._remapped(child)
                new = self.index.add(child, final, fragment if keep else None, link.via)
                if self._followable(child, link):
                    children.append(child)
                elif new:
                    self._found(child)
        offers: list[str] = []
        with self._lock:
            depth = self._depth.get(raw, 0)
            if not self._relax:
                for child in children:
                    self._sighted(child, depth + 1, offers)
            else:
                # The content of `final`, reached through `raw`: its links are one step
                # further than the nearest page that leads to it.
                if first:
                    self._edges[final] = tuple(dict.fromkeys(children))
                self._final[raw] = final
                known = self._cdepth.get(final)
                if first or known is None or depth < known:
                    nearest = depth if known is None else min(depth, known)
                    self._cdepth[final] = nearest
                    for child in self._edges.get(final, ()):
                        self._sighted(child, nearest + 1, offers)
        for child in offers:
            self.frontier.offer(child)
        return page.result, None

    def _seed_sitemaps(self, url: str, context: CheckContext) -> probe.Steps[None]:
        """Pages listed in the start host's sitemaps, as if linked from the start page."""
        listed = (yield from self.robots.sitemaps(url, context)) if self.crawl.robots else []
        for sitemap in listed or [urljoin(url, "/sitemap.xml")]:
            yield from self._read_sitemap(sitemap, context, nesting=0)

    def _read_sitemap(self, sitemap: str, context: CheckContext, nesting: int) -> probe.Steps[None]:
        try:
            where = normalise(sitemap)
        except InvalidURL:
            return
        with self._lock:
            if where in self._sitemaps or not self.in_scope(where):
                return
            if len(self._sitemaps) >= MAX_SITEMAPS:  # the budget of the whole tree
                return
            self._sitemaps.add(where)
        nested: list[str] = []
        entry_link = Link("", 0, "a")

        def on_entry(entry: Entry) -> None:
            if entry.kind == "sitemap":
                if len(nested) < MAX_SITEMAPS:
                    nested.append(entry.loc)
                return
            found = resolve_url(where, entry.loc)
            if found is None:
                return
            url, fragment = found
            url = self._remapped(url)
            kept = fragment if self.crawl.check_fragments else None
            new = self.index.add(url, where, kept, "sitemap[loc]")
            if not self._followable(url, entry_link):
                if new:
                    self._found(url)
            else:
                offers: list[str] = []
                with self._lock:
                    self._sighted(url, 1, offers)  # as if linked from the start page
                for page in offers:
                    self.frontier.offer(page)

        yield from remote_steps(where, context, on_entry)
        if nesting < MAX_NESTING:
            for child in nested:
                yield from self._read_sitemap(child, context, nesting + 1)

    # -- the caller's thread --------------------------------------------------------------
    def _settle(self, result: Result) -> None:
        """A page's record arrived: it offered all its links (or none, if the engine
        refused it: policy, invalid URL), so the frontier stops waiting for it."""
        with self._lock:
            page = result.url in self._pages and result.url not in self._settled
            if page:
                self._settled.add(result.url)
        if page:
            self.frontier.page_done()

    def __iter__(self) -> Iterator[Result]:
        held = self.spool
        try:
            for result in self._invalid:
                held.put(result)
            for result in self.engine:
                self._settle(result)
                if self.on_broken is not None and result.outcome == R.BROKEN:
                    self.on_broken(with_sources(result, self.index))
                held.put(result)
        except SourceError:  # the spool cannot be written: nothing more is checked
            self.cancel()
            raise
        for result in held:
            record = with_sources(result, self.index)
            yield record
            if self.crawl.check_fragments:
                yield from missing_fragments(
                    record, self.index.fragments(record.url), self.anchors.get(record.url)
                )
        mail = MailChecker(self.crawl.check_mail, self.crawl.dns_server, self.options.timeout)
        for href in self._mails.urls():
            yield mail.check(href, self._mails.sources(href), self._mails.via(href))


def crawl_site(
    start: str | Sequence[str],
    *,
    depth: int | None = DEFAULT_DEPTH,
    follow_hosts: Sequence[str] = (),
    robots: bool = True,
    max_pages: int | None = DEFAULT_MAX_PAGES,
    sitemap: bool = True,
    check_fragments: bool = False,
    **options: Unpack[CheckOptions],
) -> Iterator[Result]:
    """Crawl a site from `start` and yield a Result for every link found (see `Crawler`).

    `depth` and `max_pages` default to the crawl budget (docs/security.md); None lifts it.

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
