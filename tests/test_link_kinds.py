"""Links of every kind through real runs: the record's `via`, --include-kind/--exclude-kind,
linked stylesheets read in documents and in a crawl (loopback site)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import sites
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.links.extract.kinds import KindFilter
from urlsweep.options import Options

DATA = Path(__file__).parent / "data" / "links"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "urlsweep", *args, "--no-store", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def rows(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    shutil.copy(DATA / "kinds.html", tmp_path / "kinds.html")
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(DATA / "site.css", sub / "site.css")
    for name in ("bg.png", "font.woff2", "page.html", "img.png"):
        (sub / name).write_bytes(b"x")
    return tmp_path


def test_records_say_which_element_and_attribute_linked_them(docs: Path) -> None:
    p = run("check", ".", "--offline", "-f", "jsonl", cwd=docs)
    assert p.returncode == 1, p.stderr
    by_url = {r["url"]: r for r in rows(p.stdout)}
    assert by_url["sub/page.html"]["via"] == ["a[href]"]
    assert by_url["sub/hero.jpg"]["via"] == ["style[url]"]
    assert by_url["sub/div-bg.png"]["via"] == ["div[style]"]
    # the stylesheet is a document of the directory too: its own links are checked
    assert by_url["sub/bg.png"]["ok"] and by_url["sub/bg.png"]["via"] == ["css[url]"]
    assert by_url["sub/bg.png"]["sources"] == ["sub/site.css:3"]
    assert by_url["sub/base.css"]["error"] == "missing_file"
    assert by_url["https://img.invalid/tw.png"]["via"] == ["meta[twitter:image]"]
    assert by_url["https://img.invalid/tw.png"]["outcome"] == "skipped"


def test_csv_and_text_carry_via(docs: Path) -> None:
    p = run("check", "kinds.html", "--offline", "-f", "csv", cwd=docs)
    table = list(csv.DictReader(io.StringIO(p.stdout)))
    assert {r["url"]: r["via"] for r in table}["sub/poster.jpg"] == "video[poster]"
    p = run("check", "kinds.html", "--offline", cwd=docs)
    assert "in video[poster]" in p.stdout


def test_include_and_exclude_kind(docs: Path) -> None:
    p = run(
        "check",
        "kinds.html",
        "--offline",
        "-f",
        "jsonl",
        "--include-kind",
        "img",
        "--include-kind",
        "[background]",
        "--exclude-kind",
        "img[longdesc]",
        cwd=docs,
    )
    vias = {v for r in rows(p.stdout) for v in r["via"]}
    assert vias == {"img[src]", "img[srcset]", "body[background]", "table[background]"} | {
        "td[background]"
    }
    bad = run("check", "kinds.html", "--offline", "--include-kind", "a[href", cwd=docs)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "a[href" in bad.stderr


def test_kind_filter_patterns() -> None:
    from urlsweep.links.extract import Link

    f = KindFilter.of(include=["meta[og:*]", "[srcset]", "a"])
    assert f is not None
    assert f.wants(Link("x", 1, "meta", attr="og:image"))
    assert not f.wants(Link("x", 1, "meta", attr="refresh"))
    assert f.wants(Link("x", 1, "source", attr="srcset"))
    assert f.wants(Link("x", 1, "a", attr="ping"))
    assert not f.wants(Link("x", 1, "link-resource", attr="href"))
    assert KindFilter.of(include=["link"]).wants(Link("x", 1, "link-resource"))  # type: ignore[union-attr]
    assert KindFilter.of() is None


@pytest.fixture(scope="module")
def css_site() -> Iterator[sites.Site]:
    site = sites.Site()
    r = site.routes
    r["/"] = sites.html(
        b'<!doctype html><html><head><link rel="stylesheet" href="/s/main.css">'
        b'<meta http-equiv="refresh" content="30; url=/refreshed.html">'
        b"<style>.a{background:url(/img/inline.png)}</style></head>"
        b'<body><p style="background-image:url(/img/attr.png)">x</p>'
        b'<form action="/search"><button formaction="/gone-action">go</button></form>'
        b"</body></html>"
    )
    css = b'@import "/s/more.css"; body{background:url(/img/bg.png)}'
    r["/s/main.css"] = (200, {"Content-Type": "text/css"}, css)
    r["/s/more.css"] = (200, {"Content-Type": "text/css"}, b".x{background:url(missing.png)}")
    r["/refreshed.html"] = sites.html(sites.page("/img/from-refresh.png"))
    for path in ("/img/inline.png", "/img/attr.png", "/img/bg.png", "/img/from-refresh.png"):
        r[path] = (200, {"Content-Type": "image/png"}, b"png")
    r["/search"] = sites.html(b"results")
    yield site
    site.close()


def test_crawl_reads_stylesheets_and_follows_refresh(css_site: sites.Site) -> None:
    base = css_site.base
    got = list(Crawler([base + "/"], Options(timeout=10, workers=4), CrawlOptions(sitemap=False)))
    by_url = {r.url: r for r in got}
    assert by_url[f"{base}/img/bg.png"].ok and by_url[f"{base}/img/bg.png"].via == ("css[url]",)
    assert by_url[f"{base}/img/bg.png"].sources == (f"{base}/s/main.css",)
    assert by_url[f"{base}/s/more.css"].via == ("css[@import]",)
    broken = {r.url: r.via for r in got if r.outcome == "broken"}
    assert broken == {
        f"{base}/s/missing.png": ("css[url]",),
        f"{base}/gone-action": ("button[formaction]",),
    }
    assert by_url[f"{base}/img/inline.png"].via == ("style[url]",)
    assert by_url[f"{base}/img/attr.png"].via == ("p[style]",)
    assert by_url[f"{base}/img/from-refresh.png"].ok  # the refresh target was read as a page
    assert by_url[f"{base}/search"].via == ("form[action]",)
