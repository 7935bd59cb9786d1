"""A crawl agrees with itself: the same site gives the same records whatever order pages are
read in (which varies with thread timing). A URL's role (page read, or resource checked)
must not depend on its first sighting, and a page's depth is its shortest distance."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from support import sites
from support.http import reply
from urlsweep import Result
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.options import Options

PAGES = 300
Record = tuple[str, str, int | None, str | None, frozenset[str]]


def _page(i: int) -> str:
    return "/" if i == 0 else f"/s{i % 12}/p{i}.html"


def build_docs(site: sites.Site, other: sites.Site) -> None:
    """A documentation-like site: `<link rel>` neighbours in <head> (before the body's
    links to the same pages), nofollow links to pages also linked normally, pages that only
    `<link rel>` names (genindex, search), broken links on some pages."""
    rng = random.Random(16)
    r = site.routes
    for i in range(PAGES):
        prev, nxt = _page(max(0, i - 1)), _page(min(PAGES - 1, i + 1))
        head = (
            f'<link rel="stylesheet" href="/_static/style.css">'
            f'<link rel="index" href="/genindex.html"><link rel="search" href="/search.html">'
            f'<link rel="prev" href="{prev}"><link rel="next" href="{nxt}">'
        )
        links = [_page(rng.randrange(PAGES)) for _ in range(8)]
        nofollow = [_page(rng.randrange(PAGES)) for _ in range(3)] + [nxt]
        body = "".join(f'<a rel="nofollow" href="{h}">nf</a>\n' for h in nofollow)
        body += "".join(f'<a href="{h}#sec">x</a>\n' for h in links)
        body += f'<a href="{nxt}">next</a>\n<img src="/_static/logo.png">\n'
        body += f'<a href="{other.base}/ext{i % 7}">ext</a>\n'
        if i % 25 == 3:
            body += f'<a href="/s{i % 12}/gone{i}.html">gone</a>\n'
        r[_page(i)] = sites.html(
            f"<!doctype html><html><head>{head}</head><body>\n{body}</body></html>".encode()
        )
    r["/genindex.html"] = sites.html(sites.page("/only-from-genindex.html"))
    r["/search.html"] = sites.html(sites.page("/search-missing.html"))
    r["/only-from-genindex.html"] = sites.html(sites.page("/"))
    r["/_static/style.css"] = (200, {"Content-Type": "text/css"}, b"body{}")
    r["/_static/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG")
    for k in range(7):
        other.routes[f"/ext{k}"] = sites.html(sites.page())


@pytest.fixture(scope="module")
def docs() -> Iterator[tuple[sites.Site, sites.Site]]:
    site, other = sites.Site("127.0.0.1"), sites.Site("127.0.0.3")
    build_docs(site, other)
    try:
        yield site, other
    finally:
        site.close()
        other.close()


def records(results: list[Result]) -> set[Record]:
    return {(r.url, r.outcome, r.status, r.method, frozenset(r.sources)) for r in results}


def crawl(start: str, workers: int, **kwargs: object) -> list[Result]:
    opts = Options(timeout=10, workers=workers, max_per_host=workers)
    return list(Crawler([start], opts, CrawlOptions(sitemap=False, **kwargs)))  # type: ignore[arg-type]


def test_the_same_site_gives_the_same_records_five_times(
    docs: tuple[sites.Site, sites.Site],
) -> None:
    site, _ = docs
    runs = [records(crawl(site.base + "/", 32)) for _ in range(5)]
    first = runs[0]
    for n, run in enumerate(runs[1:], 2):
        differ = sorted({rec[0] for rec in run ^ first})
        assert run == first, f"run {n}: {len(differ)} URLs differ, e.g. {differ[:3]}"
    by_url = {rec[0]: rec for rec in first}
    # Every page is read (GET), the neighbours only <link rel> names included.
    for i in range(PAGES):
        assert by_url[site.base + _page(i)][3] == "GET", _page(i)
    assert by_url[f"{site.base}/genindex.html"][3] == "GET"
    assert by_url[f"{site.base}/only-from-genindex.html"][1] == "ok"
    assert by_url[f"{site.base}/search-missing.html"][1:3] == ("broken", 404)
    gone = {u for u, outcome, *_ in first if "/gone" in u and outcome == "broken"}
    assert len(gone) == len([i for i in range(PAGES) if i % 25 == 3])
    # Resources are checked, not read; the site's stylesheets are read for their url()s.
    assert by_url[f"{site.base}/_static/logo.png"][3] == "HEAD"
    assert by_url[f"{site.base}/_static/style.css"][3] == "GET"


def test_depth_is_the_shortest_distance_whatever_the_order(
    docs: tuple[sites.Site, sites.Site],
) -> None:
    site, _ = docs
    runs = [records(crawl(site.base + "/", 32, depth=2)) for _ in range(3)]
    assert runs[1] == runs[0] and runs[2] == runs[0]
    one = records(crawl(site.base + "/", 1, depth=2))  # one worker: a plain breadth-first walk
    assert one == runs[0]


def three_pages(site: sites.Site) -> None:
    """/ names /b.html in <head> and as nofollow before its plain link; /b.html links to
    a missing page. On main /b.html was only HEAD-checked: the broken link was never found."""
    site.routes["/"] = sites.html(
        b'<!doctype html><html><head><link rel="next" href="/b.html"></head><body>\n'
        b'<a rel="nofollow" href="/b.html">b</a>\n<a href="/b.html">b</a>\n'
        b'<a href="/c.html">c</a>\n</body></html>\n'
    )
    site.routes["/b.html"] = sites.html(sites.page("/c.html", "/b-missing.html"))
    site.routes["/c.html"] = sites.html(sites.page("/b.html"))


def test_a_page_first_seen_as_a_nofollow_or_link_rel_is_still_read() -> None:
    site = sites.Site("127.0.0.1")
    try:
        three_pages(site)
        results = crawl(site.base + "/", 4)
        by_url = {r.url: r for r in results}
        assert by_url[f"{site.base}/b.html"].method == "GET"
        assert site.gets("/b.html") == 1
        missing = by_url[f"{site.base}/b-missing.html"]
        assert missing.status == 404 and missing.sources == (f"{site.base}/b.html",)
        assert set(by_url[f"{site.base}/b.html"].sources) == {
            f"{site.base}/",
            f"{site.base}/c.html",
        }
    finally:
        site.close()


def test_a_crawl_keeps_to_the_host_limit_and_reads_robots_once() -> None:
    """Pages, robots.txt and sitemaps are checks of the one driver: every request counts
    against the host's limit, and robots.txt is fetched once however many pages wait."""
    site = sites.Site("127.0.0.1")
    try:
        names = [f"/p{i}.html" for i in range(24)]

        def slow(h: BaseHTTPRequestHandler) -> None:
            time.sleep(0.03)
            reply(h, 200, sites.page(*names), content_type="text/html")

        for name in ["/", *names]:
            site.server.route(name, slow)
        site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\n")
        opts = Options(timeout=10, workers=16, max_per_host=2)
        results = list(Crawler([site.base + "/"], opts, CrawlOptions()))
        assert {r.url for r in results if r.method == "GET"} >= {site.base + n for n in names}
        assert site.gets("/robots.txt") == 1
        site.server.wait_idle()
        assert site.server.max_in_flight == 2  # 16 checks at once, two on the host
    finally:
        site.close()
