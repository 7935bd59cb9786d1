"""docs/security.md, hostile pages: malformed links, endless sites, link-dense pages, deep
nesting. Each against real loopback servers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import urlsweep
from support.sites import Site, html, page
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
