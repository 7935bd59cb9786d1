"""A fixture website served from loopback: pages linking to each other, to broken pages and
to a second loopback host, with robots.txt, a sitemap index, a <base href>, a redirect,
a loop of pages, and fragments present and missing. Every request is logged."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

from support.http import TestHTTPServer, reply

Route = tuple[int, dict[str, str], bytes]


def page(*links: str, extra: str = "", title: str = "page") -> bytes:
    body = "\n".join(f'<a href="{href}">{href}</a>' for href in links)
    return (
        f"<!doctype html>\n<html><head><title>{title}</title></head>\n<body>\n{extra}\n{body}\n"
        "</body></html>\n"
    ).encode()


def html(body: bytes) -> Route:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


class _Routes(dict[str, Route]):
    """Static routes: setting one serves it at once (paths not set get the built-in 404)."""

    def __init__(self, server: TestHTTPServer) -> None:
        super().__init__()
        self._server = server

    def __setitem__(self, path: str, route: Route) -> None:
        super().__setitem__(path, route)
        status, headers, body = route
        ctype = headers.get("Content-Type", "text/html")
        extra = [(k, v) for k, v in headers.items() if k != "Content-Type"]

        def handler(h: BaseHTTPRequestHandler) -> None:
            reply(h, status, body, extra, content_type=ctype)

        self._server.route(path, handler)


class Site:
    """A static website on a loopback TestHTTPServer; `log` lists (method, path) requests."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.server = TestHTTPServer(host).start()
        self.base = self.server.base_url
        self.routes = _Routes(self.server)

    @property
    def log(self) -> list[tuple[str, str]]:
        with self.server.lock:
            return [(r.method, r.path.partition("?")[0]) for r in self.server.requests]

    def clear(self) -> None:
        self.server.clear()

    def close(self) -> None:
        self.server.stop()

    def gets(self, path: str) -> int:
        return sum(1 for m, p in self.log if m == "GET" and p == path)

    def requested(self, path: str) -> bool:
        return any(p == path for _, p in self.log)


def sitemap(*urls: str, index: bool = False) -> bytes:
    tag, item = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    entries = "\n".join(f"  <{item}><loc>{u}</loc></{item}>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}\n</{tag}>\n'
    ).encode()


def build_site(site: Site, other: Site) -> None:
    """The crawl fixture. Broken links (and where they are) are listed in BROKEN below."""
    b, o = site.base, other.base
    r = site.routes
    r["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        f"User-agent: *\nDisallow: /private/\nSitemap: {b}/sitemap_index.xml\n".encode(),
    )
    r["/sitemap_index.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(f"{b}/sitemap-pages.xml.gz", index=True),
    )
    r["/sitemap-pages.xml.gz"] = (
        200,
        {"Content-Type": "application/gzip"},
        gzip.compress(sitemap(f"{b}/", f"{b}/orphan.html")),
    )
    many = ["/a.html"] * 50  # one page linked 50 times is fetched once
    r["/"] = html(
        page(
            *many,
            "/b.html",
            "/missing.html",
            f"{o}/ext-ok",
            f"{o}/ext-missing",
            f"{o}/ext-page.html",
            "/private/secret.html",
            "/old",
            "/a.html#section",
            "/a.html#nope",
            "mailto:someone@example.invalid",
            extra='<a rel="nofollow" href="/nofollow.html">nf</a>\n<img src="/img/logo.png">',
            title="home",
        )
    )
    r["/a.html"] = html(page("/b.html", "/", "/deep/1.html", extra='<h2 id="section">S</h2>'))
    r["/b.html"] = html(
        page("2.html", "missing-from-base.html", "/a.html").replace(
            b"<head>", b'<head><base href="/deep/">'
        )
    )
    r["/deep/1.html"] = html(page("/deep/2.html", "/deep/gone.html"))
    r["/deep/2.html"] = html(page("/a.html", "/deep/3.html"))
    r["/deep/3.html"] = html(page("/deep/too-deep-missing.html"))
    r["/orphan.html"] = html(page("/orphan-missing.html"))
    r["/old"] = (301, {"Location": "/moved.html"}, b"")
    r["/moved.html"] = html(page("/moved-missing.html"))
    r["/nofollow.html"] = html(page("/nofollow-child.html"))
    r["/private/secret.html"] = html(page("/private/child.html"))
    r["/img/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG fake")
    other.routes["/ext-ok"] = html(page())
    other.routes["/ext-page.html"] = html(page("/never-crawled.html"))


def broken(site: Site, other: Site) -> dict[str, set[str]]:
    """url -> pages linking to it, for a full crawl from `/` (fragments not checked)."""
    b, o = site.base, other.base
    return {
        f"{b}/missing.html": {f"{b}/"},
        f"{o}/ext-missing": {f"{b}/"},
        f"{b}/deep/missing-from-base.html": {f"{b}/b.html"},
        f"{b}/deep/gone.html": {f"{b}/deep/1.html"},
        f"{b}/deep/too-deep-missing.html": {f"{b}/deep/3.html"},
        f"{b}/orphan-missing.html": {f"{b}/orphan.html"},
        f"{b}/moved-missing.html": {f"{b}/moved.html"},
    }


def serve_fixture_site() -> Iterator[tuple[Site, Site]]:
    site, other = Site("127.0.0.1"), Site("127.0.0.2")
    build_site(site, other)
    try:
        yield site, other
    finally:
        site.close()
        other.close()
