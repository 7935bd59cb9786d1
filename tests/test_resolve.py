"""Links resolve as a browser resolves them (the WHATWG URL Standard), not as RFC 3986 and
urllib's urljoin do: backslashes, tabs and newlines, `../` past the root, `http:x`."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from support import sites
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.links.graph import url_key
from urlsweep.links.resolve import join, page_base, resolve_url
from urlsweep.options import Options

BASE = "http://a.example/x/y/z.html?q=1#f"

# (href, what a browser requests, fragment): each checked against `new URL(href, BASE)`.
CASES = [
    # a backslash is a slash in http(s) URLs: two of them start another host
    ("\\\\other.example\\x", "http://other.example/x", None),
    ("/\\other.example/p", "http://other.example/p", None),
    ("http:\\\\h2.example\\x", "http://h2.example/x", None),
    ("..\\..\\q", "http://a.example/q", None),
    ("sub\\page.html#s", "http://a.example/x/y/sub/page.html", "s"),
    # tabs and newlines anywhere are dropped; C0 controls and spaces around are stripped
    (" /a\tb\nc\r.html ", "http://a.example/abc.html", None),
    ("\x00\x01 sub/../k.html#h \x1f", "http://a.example/x/y/k.html", "h"),
    ("ht\ttp://b.example/\n", "http://b.example/", None),
    # only those: a no-break space is part of the URL (str.strip() took it away)
    ("\u00a0nb.html", "http://a.example/x/y/%C2%A0nb.html", None),
    ("/\t/c.example/", "http://c.example/", None),
    # ../ past the root stays at the root
    ("../../../../up", "http://a.example/up", None),
    ("/../../r.html", "http://a.example/r.html", None),
    ("%2e%2e/%2E%2E/t.html", "http://a.example/t.html", None),
    # the page's own scheme without slashes is relative; another scheme is absolute
    ("http:foo", "http://a.example/x/y/foo", None),
    ("https:foo", "https://foo/", None),
    # the base's query and fragment
    ("?r=2", "http://a.example/x/y/z.html?r=2", None),
    ("#g", "http://a.example/x/y/z.html?q=1", "g"),
    ("", "http://a.example/x/y/z.html?q=1", None),
    ("//other.example", "http://other.example/", None),
    ("p q.html", "http://a.example/x/y/p%20q.html", None),
]


@pytest.mark.parametrize(("href", "expected", "fragment"), CASES)
def test_links_resolve_as_a_browser_resolves_them(
    href: str, expected: str, fragment: str | None
) -> None:
    assert resolve_url(BASE, href) == (expected, fragment)


def _old_resolve(base: str, href: str) -> str | None:
    """The resolver before the URL Standard: str.strip, a root-relative shortcut, urljoin."""
    href = href.strip()
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        absolute = "http://a.example" + href
    else:
        absolute = urljoin(base, href)
    return url_key(absolute)


def test_the_old_resolver_read_these_links_differently() -> None:
    """The cases are not ones urllib already got right."""
    differ = [href for href, expected, _ in CASES if _old_resolve(BASE, href) != expected]
    assert {"\\\\other.example\\x", "/\\other.example/p", "http:\\\\h2.example\\x"} <= set(differ)
    assert {"/\t/c.example/", "\u00a0nb.html"} <= set(differ)


def test_links_nobody_checks_and_invalid_ones() -> None:
    for href in ("mailto:a@b.example", "javascript:void(0)", "data:text/plain,x", "ftp://f/x"):
        assert resolve_url(BASE, href) is None
    # An http URL that cannot be parsed is its own key: the engine reports it invalid_url.
    assert resolve_url(BASE, "http://[x") == ("http://[x", None)
    # Reported as written (where it can be found in the page), not as resolved.
    assert resolve_url(BASE, " //[y/z#f") == ("//[y/z", None)


def test_base_href_is_joined_the_same_way() -> None:
    assert page_base("http://a.example/d/p.html", "\\\\cdn.example\\v2\\").url == (
        "http://cdn.example/v2/"
    )
    base = page_base("http://a.example/d/p.html", "\\\\cdn.example\\v2\\").url
    assert base is not None
    assert resolve_url(base, "img.png") == ("http://cdn.example/v2/img.png", None)
    assert join("http://u:pw@a.example:8080/d/p", "/r") == "http://u:pw@a.example:8080/r"


def test_a_crawl_follows_backslash_and_tab_links_to_the_right_pages() -> None:
    site = sites.Site()
    try:
        site.routes["/"] = sites.html(
            sites.page("docs\\guide.html", "/docs/\tnext.html", "..\\..\\top.html")
        )
        site.routes["/docs/guide.html"] = sites.html(sites.page("ok.html"))
        site.routes["/docs/next.html"] = sites.html(sites.page())
        site.routes["/docs/ok.html"] = sites.html(sites.page())
        site.routes["/top.html"] = sites.html(sites.page())
        crawler = Crawler([site.base + "/"], Options(timeout=10), CrawlOptions(sitemap=False))
        results = {r.url: r for r in crawler}
        for path in ("/docs/guide.html", "/docs/next.html", "/docs/ok.html", "/top.html"):
            assert results[site.base + path].outcome == "ok", path
        assert all(r.outcome == "ok" for r in results.values())
        assert site.gets("/docs/ok.html") == 1  # read as a page, through the backslash link
    finally:
        site.close()
