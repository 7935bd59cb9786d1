"""Sitemaps: plain, gzip, indexes; local or remote; parsed incrementally."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from support import sites
from urlsweep.links.sitemap import SitemapParser, read_local


def test_parser_is_incremental() -> None:
    urls = [f"http://127.0.0.1:9/p{i}.html" for i in range(3000)]
    data = sites.sitemap(*urls)
    whole = SitemapParser()
    got_whole = [*whole.feed(data), *whole.close()]
    parser = SitemapParser()
    got = []
    for i in range(0, len(data), 997):  # odd chunks split tags and URLs
        got.extend(parser.feed(data[i : i + 997]))
    got.extend(parser.close())
    assert [e.loc for e in got] == urls == [e.loc for e in got_whole]
    assert got[0].line == 3 and got[-1].line == 3002 and {e.kind for e in got} == {"url"}
    assert parser.error is None


def test_gzip_and_index_entries(tmp_path: Path) -> None:
    f = tmp_path / "sitemap.xml.gz"
    f.write_bytes(gzip.compress(sites.sitemap("http://a.invalid/x", index=True)))
    assert [(e.kind, e.loc) for e in read_local(str(f))] == [("sitemap", "http://a.invalid/x")]
    bad = SitemapParser()
    bad.feed(b"<urlset><url><loc>x</loc></url>")
    bad.feed(b"</oops>")
    assert bad.error and "not a valid sitemap" in bad.error


def test_check_a_local_sitemap_index_pointing_at_a_remote_sitemap(tmp_path: Path) -> None:
    web = sites.Site()
    try:
        b = web.base
        web.routes["/ok"] = sites.html(sites.page())
        web.routes["/pages.xml"] = (
            200,
            {"Content-Type": "application/xml"},
            sites.sitemap(f"{b}/ok", f"{b}/gone"),
        )
        index = tmp_path / "sitemap.xml"
        index.write_bytes(sites.sitemap(f"{b}/pages.xml", f"{b}/absent.xml", index=True))
        p = subprocess.run(
            [sys.executable, "-m", "urlsweep", "check", str(index), "-f", "jsonl"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        web.close()
    rows = {r["url"]: r for r in map(json.loads, p.stdout.splitlines())}
    assert p.returncode == 1, p.stderr
    assert rows[f"{b}/ok"]["ok"] and rows[f"{b}/ok"]["sources"] == [f"{b}/pages.xml"]
    assert rows[f"{b}/gone"]["status"] == 404
    assert rows[f"{b}/absent.xml"]["error"] == "invalid_url"
    assert "HTTP 404" in rows[f"{b}/absent.xml"]["detail"]
    assert rows[f"{b}/absent.xml"]["sources"] == [f"{index}:4"]
    assert web.gets("/pages.xml") == 1 and len(rows) == 3
