"""A fixture website served from loopback: pages linking to each other, to broken pages and
to a second loopback host, with robots.txt, a sitemap index, a <base href>, a redirect,
a loop of pages, and fragments present and missing. Every request is logged."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = tuple[int, dict[str, str], bytes]


def page(*links: str, extra: str = "", title: str = "page") -> bytes:
    body = "\n".join(f'<a href="{href}">{href}</a>' for href in links)
    return (
        f"<!doctype html>\n<html><head><title>{title}</title></head>\n<body>\n{extra}\n{body}\n"
        "</body></html>\n"
    ).encode()


def html(body: bytes) -> Route:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


@dataclass
class Site:
    """A loopback HTTP server answering from `routes`; `log` holds (method, path)."""

    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, with_body: bool) -> None:
                path = self.path.split("?", 1)[0]
                site.log.append((self.command, path))
                status, headers, body = site.routes.get(
                    path, (404, {"Content-Type": "text/html"}, b"<p>not found</p>")
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

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
