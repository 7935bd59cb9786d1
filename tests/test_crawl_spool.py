"""A crawl's results wait on disk, not in memory, and its broken links show on the terminal
as they are found; the records written at the end keep every page that links to them."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from support import sites
from support.http import reply
from support.term import Pty
from urlsweep import result as R
from urlsweep.errors import SourceError
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.links.spool import Spool
from urlsweep.options import Options
from urlsweep.result import Result

CMD = [sys.executable, "-m", "urlsweep"]


def _result(i: int) -> Result:
    return Result(url=f"http://h.example/{i}", outcome=R.OK, ok=True, status=200)


def test_the_spool_holds_at_most_one_batch_and_gives_everything_back_in_order() -> None:
    spool = Spool(batch=10)
    for i in range(1000):
        spool.put(_result(i))
    assert spool.peak == 10  # a bounded structure: not 1000 results in memory
    assert [r.url for r in spool] == [f"http://h.example/{i}" for i in range(1000)]
    assert list(spool) == []  # read once; its file is gone


def test_a_crawl_keeps_few_results_in_memory_and_every_source_in_its_records() -> None:
    site = sites.Site()
    try:
        # 30 pages, each linking to every other page, to 20 images and to a missing page.
        pages = [f"/p{i}.html" for i in range(30)]
        images = [f"/img/{i}.png" for i in range(20)]
        for path in pages:
            site.routes[path] = sites.html(sites.page(*pages, *images, "/gone.html"))
        for path in images:
            site.routes[path] = (200, {"Content-Type": "image/png"}, b"png")
        site.routes["/"] = sites.html(sites.page("/p0.html"))
        crawler = Crawler([site.base + "/"], Options(timeout=10), CrawlOptions(sitemap=False))
        crawler.spool = Spool(batch=8)
        found: list[Result] = []
        crawler.on_broken = found.append
        records = {r.url: r for r in crawler}
    finally:
        site.close()
    assert len(records) == 1 + 30 + 20 + 1
    assert crawler.spool.count == len(records) and crawler.spool.peak <= 8
    gone = records[site.base + "/gone.html"]
    assert gone.outcome == R.BROKEN
    assert set(gone.sources) == {site.base + p for p in pages}  # all 30, not the first
    assert set(records[site.base + "/img/3.png"].sources) == {site.base + p for p in pages}
    # Told once, as soon as it was checked (with the pages known then).
    assert [r.url for r in found] == [site.base + "/gone.html"]
    assert found[0].sources


def test_broken_links_show_on_the_terminal_before_the_crawl_ends(tmp_path: Path) -> None:
    """The last page is held until the terminal shows the broken links found before it:
    the crawl cannot end first."""
    site = sites.Site()
    pty = Pty(columns=200, rows=50)
    shown_first: list[bool] = []

    def slow(h: BaseHTTPRequestHandler) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = bytes(pty.data).decode("utf-8", "replace")
            if "/gone.html" in text and "/missing.png" in text:
                shown_first.append(True)
                break
            time.sleep(0.05)
        reply(h, 200, sites.page("/gone.html"), content_type="text/html")

    try:
        site.routes["/"] = sites.html(sites.page("/gone.html", "/missing.png", "/slow.html"))
        site.server.route("/slow.html", slow)
        out = tmp_path / "out.jsonl"
        args = ["crawl", site.base + "/", "--no-sitemap", "--ignore-robots", "--no-store"]
        code = pty.run(
            [*CMD, *args, "--no-config", "-f", "jsonl", "-o", str(out)], env=dict(os.environ)
        )
    finally:
        site.close()
    assert shown_first == [True], "the crawl waited for its end to show its broken links"
    assert code == 1
    screen = "\n".join(pty.screen().text())
    assert "found ✗ 404" in screen and f"{site.base}/missing.png" in screen
    records = {r["url"]: r for r in map(json.loads, out.read_text().splitlines())}
    # The record, written at the end, lists both pages that link to /gone.html.
    assert set(records[site.base + "/gone.html"]["sources"]) == {
        site.base + "/",
        site.base + "/slow.html",
    }
    assert records[site.base + "/missing.png"]["outcome"] == "broken"


def test_a_broken_link_told_on_the_terminal_shows_no_password(tmp_path: Path) -> None:
    site = sites.Site()
    pty = Pty(columns=200, rows=50)
    try:
        site.routes["/"] = sites.html(sites.page("http://bob:s3cr3t@127.0.0.1:9/private"))
        args = ["crawl", site.base + "/", "--no-sitemap", "--ignore-robots", "--no-store"]
        out = tmp_path / "out.jsonl"
        code = pty.run([*CMD, *args, "--no-config", "-o", str(out)], env=dict(os.environ))
    finally:
        site.close()
    assert code == 1
    screen = "\n".join(pty.screen().text())
    assert "found ✗" in screen and "http://bob:***@127.0.0.1:9/private" in screen
    assert "s3cr3t" not in pty.output() and "s3cr3t" not in out.read_text()


def test_no_notices_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    import subprocess

    site = sites.Site()
    try:
        site.routes["/"] = sites.html(sites.page("/gone.html"))
        args = ["crawl", site.base + "/", "--no-sitemap", "--ignore-robots", "--no-store"]
        proc = subprocess.run(
            [*CMD, *args, "--no-config", "-f", "jsonl"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        site.close()
    assert proc.returncode == 1
    assert "found" not in proc.stderr  # a log or a pipe gets the records only
    assert [json.loads(x)["url"] for x in proc.stdout.splitlines()].count(
        site.base + "/gone.html"
    ) == 1


def test_without_check_fragments_a_crawl_keeps_no_anchors_nor_fragments() -> None:
    """Half the memory of a big crawl was anchors and fragments nobody would read."""
    site = sites.Site()
    try:
        site.routes["/"] = sites.html(sites.page("/a.html#x", "/a.html#y", "/img.png#z"))
        site.routes["/a.html"] = sites.html(sites.page("/#top", extra='<h2 id="x">x</h2>'))
        site.routes["/img.png"] = (200, {"Content-Type": "image/png"}, b"png")
        plain = Crawler([site.base + "/"], Options(timeout=10), CrawlOptions(sitemap=False))
        assert {r.url for r in plain} == {site.base + p for p in ("/", "/a.html", "/img.png")}
        checked = Crawler(
            [site.base + "/"],
            Options(timeout=10),
            CrawlOptions(sitemap=False, check_fragments=True),
        )
        missing = {r.url for r in checked if r.error == R.MISSING_FRAGMENT}
    finally:
        site.close()
    for url in (site.base + "/", site.base + "/a.html", site.base + "/img.png"):
        assert plain.anchors.get(url) is None and plain.index.fragments(url) == {}
    assert plain.index.sources(site.base + "/a.html") == (site.base + "/",)
    # With --check-fragments they are kept, and used.
    assert checked.anchors.get(site.base + "/a.html") == frozenset({"x"})
    assert set(checked.index.fragments(site.base + "/a.html")) == {"x", "y"}
    assert missing == {site.base + "/a.html#y"}


def test_quiet_shows_no_notices_on_the_terminal(tmp_path: Path) -> None:
    site = sites.Site()
    pty = Pty(columns=200, rows=50)
    try:
        site.routes["/"] = sites.html(sites.page("/gone.html"))
        args = ["crawl", site.base + "/", "--no-sitemap", "--ignore-robots", "--no-store", "-q"]
        code = pty.run([*CMD, *args, "--no-config"], env=dict(os.environ))
    finally:
        site.close()
    screen = "\n".join(pty.screen().text())
    assert code == 1
    assert "found ✗" not in screen  # -q: the broken record once, at the end
    assert screen.count(f"{site.base}/gone.html") == 1


def test_a_spool_that_cannot_be_written_ends_the_crawl_in_one_clear_error(
    tmp_path: Path,
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    site = sites.Site()
    try:
        pages = [f"/p{i}.html" for i in range(20)]
        for path in pages:
            site.routes[path] = sites.html(sites.page(*pages))
        site.routes["/"] = sites.html(sites.page("/p0.html"))
        crawler = Crawler([site.base + "/"], Options(timeout=10), CrawlOptions(sitemap=False))
        crawler.spool = Spool(batch=2, directory=str(not_a_dir))  # a real OS error at the spill
        with pytest.raises(SourceError, match=r"cannot keep the crawl's results in .*file"):
            list(crawler)
        assert crawler.engine.cancelled  # nothing more is checked
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            t.name.startswith("urlsweep-") for t in threading.enumerate()
        ):
            time.sleep(0.05)
        assert not [t.name for t in threading.enumerate() if t.name.startswith("urlsweep-")]
    finally:
        site.close()
