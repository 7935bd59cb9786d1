"""docs/security.md, hostile pages: malformed links, endless sites, link-dense pages, deep
nesting. Each against real loopback servers."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import urlsweep
from support.http import reply
from support.sites import Site, html, page, sitemap
from urlsweep.links import crawl as crawl_mod
from urlsweep.links import sitemap as sitemap_mod
from urlsweep.links.crawl import DEFAULT_DEPTH, DEFAULT_MAX_PAGES, CrawlOptions
from urlsweep.options import Options
from urlsweep.result import Result


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site("127.0.0.2")
    try:
        yield s
    finally:
        s.close()


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "urlsweep", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def by_url(results: list[Result]) -> dict[str, Result]:
    return {r.url: r for r in results}


def test_a_malformed_link_is_one_invalid_url_record_in_a_crawl(site: Site) -> None:
    site.routes["/"] = html(page("http://[x", "/after", "//[y/z"))
    site.routes["/after"] = html(page())
    got = by_url(list(urlsweep.crawl_site(site.base + "/", sitemap=False, robots=False)))
    assert got["http://[x"].error == "invalid_url"
    assert got["http://[x"].sources == (site.base + "/",)
    assert got["//[y/z"].error == "invalid_url"
    assert got[site.base + "/after"].ok  # the links after it are not lost


def test_a_redirect_to_a_malformed_url_is_invalid_url(site: Site) -> None:
    site.routes["/hop"] = (302, {"Location": "http://[x/"}, b"")
    (r,) = urlsweep.check([site.base + "/hop"], retries=0)
    assert r.error == "invalid_url" and "redirect to" in r.detail, r
    assert r.redirects and r.redirects[0].status == 302


def test_a_malformed_link_in_local_documents_is_one_record_not_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.html").write_text('<a href="http://[x">x</a> <a href="b.html">b</a>')
    (tmp_path / "b.html").write_text('<base href="http://[z/"><a href="c.html">c</a>')
    p = cli("check", "a.html", "b.html", "--offline", "-f", "jsonl", cwd=tmp_path)
    assert "Traceback" not in p.stderr and p.returncode == 1, p.stderr
    records = [line for line in p.stdout.splitlines() if line.strip()]
    assert any('"url":"http://[x"' in r and '"invalid_url"' in r for r in records), records
    assert any('"url":"b.html"' in r and '"ok":true' in r for r in records), records
    assert any("c.html" in r and "cannot be parsed" in r for r in records), records


def _generator(site: Site, last: int | None = None) -> None:
    """/a/N links to /a/N+1 (up to `last`, or for ever): a site that makes up links."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        n = int(h.path.partition("?")[0].rsplit("/", 1)[1] or 0)
        links = [f"/a/{n + 1}"] if last is None or n < last else []
        reply(h, 200, page(*links), content_type="text/html")

    site.server.route("/a/*", handler)


def pages_read(site: Site) -> int:
    site.server.wait_idle()
    return sum(1 for m, p in site.log if m == "GET" and p.startswith("/a/"))


def test_a_crawl_of_a_site_that_makes_up_links_ends_within_the_default_budget(
    site: Site,
) -> None:
    assert CrawlOptions().depth == DEFAULT_DEPTH == 50
    assert CrawlOptions().max_pages == DEFAULT_MAX_PAGES == 10_000
    _generator(site)
    p = cli("crawl", site.base + "/a/0", "--no-sitemap", "--ignore-robots", "-f", "jsonl")
    assert p.returncode == 0, p.stderr
    assert pages_read(site) == DEFAULT_DEPTH + 1  # /a/0 .. /a/50 read; /a/51 only checked
    assert "more than 50 links from the start (--depth)" in p.stdout


def test_the_page_budget_stops_reading_and_says_so(site: Site) -> None:
    _generator(site)
    got = list(urlsweep.crawl_site(site.base + "/a/0", max_pages=5, sitemap=False, robots=False))
    assert pages_read(site) == 5
    (last,) = [r for r in got if r.url.endswith("/a/5")]
    assert "budget of 5 pages is spent (--max-pages)" in last.detail


def test_unbounded_lifts_the_default_budget(site: Site) -> None:
    _generator(site, last=60)
    p = cli("crawl", site.base + "/a/0", "--no-sitemap", "--ignore-robots", "--unbounded")
    assert p.returncode == 0, p.stderr
    assert pages_read(site) == 61


def _sitemap_tree(site: Site, fan_out: int) -> None:
    """/s/N is a sitemap index of /s/(N*K+1) .. /s/(N*K+K), for ever."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        n = int(h.path.partition("?")[0].rsplit("/", 1)[1] or 0)
        children = [f"{site.base}/s/{n * fan_out + i}" for i in range(1, fan_out + 1)]
        reply(h, 200, sitemap(*children, index=True), content_type="application/xml")

    site.server.route("/s/*", handler)


def sitemap_reads(site: Site) -> int:
    site.server.wait_idle()
    return sum(1 for m, p in site.log if m == "GET" and p.startswith("/s/"))


def test_a_sitemap_index_tree_has_a_total_budget(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sitemap_mod.MAX_SITEMAPS == 1000
    monkeypatch.setattr(sitemap_mod, "MAX_SITEMAPS", 20)
    _sitemap_tree(site, fan_out=6)  # 1 + 6 + 36 + 216 files without a total budget
    opts = Options()
    got = list(sitemap_mod.sitemap_targets([site.base + "/s/0"], opts))
    assert sitemap_reads(site) == 20
    (over,) = [t for t in got if t.invalid and "budget" in t.invalid]
    assert "budget of 20 sitemaps is spent" in (over.invalid or "")


def test_a_crawls_sitemap_seeding_has_the_same_total_budget(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crawl_mod, "MAX_SITEMAPS", 15)
    _sitemap_tree(site, fan_out=6)
    robots = f"Sitemap: {site.base}/s/0\n".encode()
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots)
    site.routes["/"] = html(page())
    list(urlsweep.crawl_site(site.base + "/", sitemap=True))
    assert sitemap_reads(site) == 15


def test_a_remote_sitemap_index_never_names_a_local_file(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "local.xml"
    secret.write_bytes(sitemap("http://never.invalid/"))
    site.routes["/index.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(str(secret), index=True),
    )
    p = cli("check", "--type", "sitemap", site.base + "/index.xml", "-f", "jsonl")
    assert "must be an http(s) URL" in p.stdout, p.stdout + p.stderr
    assert "never.invalid" not in p.stdout


def _outside_code_spans(text: str) -> str:
    """`text` with its code spans (any fence length) removed."""
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text)


def test_the_markdown_report_keeps_server_chosen_redirect_targets_inert(site: Site) -> None:
    site.routes["/hop"] = (302, {"Location": "https://www.phish.invalid/login?u=a@b.invalid"}, b"")
    site.routes["/bad"] = (302, {"Location": "http://[x www.phish.invalid"}, b"")
    p = cli("check", site.base + "/hop", site.base + "/bad", "-f", "markdown", "--retries", "0")
    assert p.returncode == 1, p.stderr
    assert "phish.invalid" in p.stdout and "redirect to" in p.stdout
    rows = [line for line in p.stdout.splitlines() if line.startswith("|")]
    for row in rows:
        outside = _outside_code_spans(row)
        assert "://" not in outside and "www." not in outside and "@" not in outside, row
    rendered = MarkdownIt("commonmark").render(p.stdout)
    assert "<a " not in rendered and "phish.invalid" in rendered
