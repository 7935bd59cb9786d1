"""`urlsweep crawl` and `--extract` against the fixture site on two loopback hosts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import urlsweep
from support import sites
from urlsweep import Result
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.options import Options

OPTS = Options(timeout=10, workers=8)


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[tuple[sites.Site, sites.Site]]:
    yield from sites.serve_fixture_site()


@pytest.fixture
def site(fixture_site: tuple[sites.Site, sites.Site]) -> tuple[sites.Site, sites.Site]:
    for s in fixture_site:
        s.clear()
    return fixture_site


def crawl(start: str, **kwargs: object) -> list[Result]:
    return list(Crawler([start], OPTS, CrawlOptions(**kwargs)))  # type: ignore[arg-type]


def broken_map(results: list[Result]) -> dict[str, set[str]]:
    return {r.url: set(r.sources) for r in results if r.outcome == "broken"}


def test_full_crawl_finds_exactly_the_broken_links_with_their_pages(
    site: tuple[sites.Site, sites.Site],
) -> None:
    main, other = site
    results = crawl(main.base + "/")
    assert broken_map(results) == sites.broken(main, other)
    urls = [r.url for r in results]
    assert len(urls) == len(set(urls)), "every URL reported once"
    by_url = {r.url: r for r in results}
    # All sources, not only the first: a.html is linked from three pages.
    assert set(by_url[f"{main.base}/a.html"].sources) == {
        f"{main.base}/",
        f"{main.base}/b.html",
        f"{main.base}/deep/2.html",
    }
    # A redirect is followed, recorded, and its target page read (moved-missing found).
    old = by_url[f"{main.base}/old"]
    assert old.ok and old.final_url == f"{main.base}/moved.html" and len(old.redirects) == 1
    # Links to another host are checked, never crawled.
    assert not other.requested("/never-crawled.html")
    assert other.gets("/ext-page.html") == 0


def test_each_page_is_fetched_once_and_resources_are_not_downloaded(
    site: tuple[sites.Site, sites.Site],
) -> None:
    main, _ = site
    crawl(main.base + "/")
    gets = [p for m, p in main.log if m == "GET"]
    assert len(gets) == len(set(gets)), f"a page fetched twice: {sorted(gets)}"
    assert main.gets("/a.html") == 1  # linked 50 times from / and from two more pages
    assert main.gets("/robots.txt") == 1
    # An image is checked (HEAD), not downloaded; a nofollow link is checked, not read.
    assert ("HEAD", "/img/logo.png") in main.log and main.gets("/img/logo.png") == 0
    assert ("HEAD", "/nofollow.html") in main.log and not main.requested("/nofollow-child.html")


def test_robots_txt_is_honoured_unless_ignored(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    results = crawl(main.base + "/")
    secret = next(r for r in results if r.url.endswith("/private/secret.html"))
    assert secret.outcome == "skipped" and "robots.txt" in secret.detail
    assert not main.requested("/private/secret.html")
    main.clear()
    results = crawl(main.base + "/", robots=False)
    assert main.gets("/private/secret.html") == 1 and main.requested("/private/child.html")
    assert not main.requested("/robots.txt")


def test_sitemap_index_seeds_the_crawl_unless_disabled(
    site: tuple[sites.Site, sites.Site],
) -> None:
    main, _ = site
    results = crawl(main.base + "/")
    orphan = next(r for r in results if r.url == f"{main.base}/orphan.html")
    assert orphan.sources == (f"{main.base}/sitemap-pages.xml.gz",)
    main.clear()
    results = crawl(main.base + "/", sitemap=False)
    assert not main.requested("/orphan.html") and not main.requested("/sitemap_index.xml")
    assert f"{main.base}/orphan-missing.html" not in broken_map(results)


def test_depth_limits_what_is_read(site: tuple[sites.Site, sites.Site]) -> None:
    main, other = site
    results = crawl(main.base + "/", depth=1, sitemap=False)
    # Depth 0: /, depth 1: a.html, b.html, /old -> moved.html. Their links are checked, but
    # deep/1.html (depth 2) is not read, so deep/gone.html is never found.
    assert main.gets("/deep/1.html") == 0 and ("HEAD", "/deep/1.html") in main.log
    b = main.base
    assert broken_map(results) == {
        f"{b}/missing.html": {f"{b}/"},
        f"{other.base}/ext-missing": {f"{b}/"},
        f"{b}/deep/missing-from-base.html": {f"{b}/b.html"},
        f"{b}/moved-missing.html": {f"{b}/moved.html"},
    }
    main.clear()
    crawl(main.base + "/", depth=0, sitemap=False)
    # Only the start page is read; /missing.html is a leaf whose HEAD 404 is retried as GET.
    assert {p for m, p in main.log if m == "GET"} == {"/", "/robots.txt", "/missing.html"}


def test_max_pages_is_a_budget_of_pages_read() -> None:
    fan = sites.Site()
    try:
        children = [f"/p{i}.html" for i in range(10)]
        fan.routes["/"] = sites.html(sites.page(*children))
        for c in children:
            fan.routes[c] = sites.html(sites.page("/"))
        results = crawl(fan.base + "/", max_pages=3, sitemap=False, robots=False)
    finally:
        fan.close()
    gets = [p for m, p in fan.log if m == "GET"]
    heads = [p for m, p in fan.log if m == "HEAD"]
    assert len(gets) == 3 and "/" in gets, gets  # three pages read ...
    assert sorted(heads + gets[1:]) == sorted(children)  # ... the rest checked, not read
    assert sorted(r.url for r in results) == sorted(
        [fan.base + "/", *(fan.base + c for c in children)]
    )


def test_fragments_are_checked_against_ids(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    results = crawl(main.base + "/", check_fragments=True)
    frag = {r.url: r for r in results if r.error == "missing_fragment"}
    assert set(frag) == {f"{main.base}/a.html#nope"}
    assert frag[f"{main.base}/a.html#nope"].sources == (f"{main.base}/",)
    assert main.gets("/a.html") == 1


def test_extract_reads_only_the_given_page(site: tuple[sites.Site, sites.Site]) -> None:
    main, other = site
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "urlsweep",
            "check",
            "--extract",
            "-f",
            "jsonl",
            main.base + "/b.html",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    broken = {r["url"]: r["sources"] for r in rows if r["outcome"] == "broken"}
    assert broken == {f"{main.base}/deep/missing-from-base.html": [f"{main.base}/b.html"]}
    assert main.gets("/deep/2.html") == 0  # checked, not read
    assert not main.requested("/robots.txt") and not other.log


def test_crawl_command_groups_broken_links_by_page(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    p = subprocess.run(
        [sys.executable, "-m", "urlsweep", "crawl", main.base + "/", "--depth", "1", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1, p.stderr
    lines = p.stdout.splitlines()
    # The page heading comes first, then each broken link found on it.
    head = lines.index(f"{main.base}/b.html")
    assert "deep/missing-from-base.html" in lines[head + 1]
    assert "ext-missing" in p.stdout and "a.html" not in p.stdout.replace(main.base + "/b.html", "")


def test_crawl_usage_errors() -> None:
    for args, message in (
        (["crawl"], "START_URL"),
        (["crawl", "not-a-url"], "crawl starts from URLs"),
        (["crawl", "--depth", "-1", "http://x.invalid/"], "depth"),
    ):
        p = subprocess.run(
            [sys.executable, "-m", "urlsweep", *args], capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_library_crawl_and_check_documents(
    site: tuple[sites.Site, sites.Site], tmp_path: Path
) -> None:
    main, other = site
    results = list(urlsweep.crawl_site(main.base + "/", depth=0, sitemap=False, workers=4))
    assert broken_map(results) == {
        f"{main.base}/missing.html": {f"{main.base}/"},
        f"{other.base}/ext-missing": {f"{main.base}/"},
    }
    (tmp_path / "a.md").write_text(f"[x]({main.base}/missing.html)\n[y](b.md)\n")
    docs = list(urlsweep.check_documents(str(tmp_path), timeout=5))
    assert {r.url: r.outcome for r in docs} == {
        f"{main.base}/missing.html": "broken",
        str(tmp_path / "b.md"): "broken",
    }
    assert all(
        r.sources == (f"{tmp_path / 'a.md'}:{i}",)
        for i, r in enumerate(sorted(docs, key=lambda r: "b.md" in r.url), start=1)
    )


def test_pages_the_policy_refuses_end_the_crawl_normally(
    site: tuple[sites.Site, sites.Site],
) -> None:
    main, _ = site
    # /a.html and /b.html are pages the engine skips before any worker sees them; the
    # crawl must still end, and never read them.
    results = list(
        urlsweep.crawl_site(
            main.base + "/", sitemap=False, exclude=(r"/[ab]\.html$",), workers=4, timeout=10
        )
    )
    by_url = {r.url: r for r in results}
    assert by_url[f"{main.base}/a.html"].outcome == "skipped"
    assert not main.requested("/a.html") and not main.requested("/deep/1.html")
    assert by_url[f"{main.base}/missing.html"].status == 404


def test_follow_host_adds_a_host_to_the_crawl(site: tuple[sites.Site, sites.Site]) -> None:
    main, other = site
    host = other.base.removeprefix("http://")  # 127.0.0.2:PORT
    results = crawl(main.base + "/", follow_hosts=(host,), sitemap=False)
    assert other.gets("/ext-page.html") == 1  # read, not just checked
    never = next(r for r in results if r.url == f"{other.base}/never-crawled.html")
    assert never.status == 404 and never.sources == (f"{other.base}/ext-page.html",)
