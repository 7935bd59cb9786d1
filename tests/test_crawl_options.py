"""Every `urlsweep crawl` option end to end: the real command against the fixture site on
two loopback addresses (127.0.0.1, the start host; 127.0.0.2, another host)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import sites

CMD = [sys.executable, "-m", "urlsweep", "crawl", "--no-store", "-f", "jsonl", "-w", "8"]


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[tuple[sites.Site, sites.Site]]:
    yield from sites.serve_fixture_site()


@pytest.fixture
def site(fixture_site: tuple[sites.Site, sites.Site]) -> tuple[sites.Site, sites.Site]:
    for s in fixture_site:
        s.clear()
    return fixture_site


def crawl(
    start: str, *args: str, cwd: Path | None = None, config: bool = False
) -> dict[str, dict[str, object]]:
    proc = subprocess.run(
        [*CMD, *([] if config else ["--no-config"]), *args, start],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert proc.returncode in (0, 1), proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {str(r["url"]): r for r in records}


def test_defaults_honour_robots_and_sitemaps(site: tuple[sites.Site, sites.Site]) -> None:
    main, other = site
    by_url = crawl(main.base + "/")
    assert by_url[f"{main.base}/private/secret.html"]["outcome"] == "skipped"
    assert not main.requested("/private/secret.html")
    assert main.gets("/orphan.html") == 1  # listed in the sitemap only: read
    assert other.gets("/ext-page.html") == 0  # another host: checked, not read


def test_no_sitemap_and_ignore_robots(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    by_url = crawl(main.base + "/", "--no-sitemap", "--ignore-robots")
    assert not main.requested("/orphan.html") and not main.requested("/sitemap_index.xml")
    assert not main.requested("/robots.txt")
    assert by_url[f"{main.base}/private/secret.html"]["method"] == "GET"
    assert f"{main.base}/private/child.html" in by_url


def test_depth_bounds_the_pages_read(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    by_url = crawl(main.base + "/", "--depth", "1", "--no-sitemap")
    assert main.gets("/a.html") == 1 and main.gets("/b.html") == 1  # depth 1: read
    assert by_url[f"{main.base}/deep/1.html"]["method"] == "HEAD"  # depth 2: checked only
    assert f"{main.base}/deep/gone.html" not in by_url


def test_max_pages_is_a_budget(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    by_url = crawl(main.base + "/", "--max-pages", "1", "--no-sitemap")
    assert main.gets("/") == 1 and main.gets("/a.html") == 0
    assert by_url[f"{main.base}/a.html"]["outcome"] == "ok"  # beyond the budget: checked


def test_follow_host_flag_and_config_key(
    site: tuple[sites.Site, sites.Site], tmp_path: Path
) -> None:
    main, other = site
    host = other.base.removeprefix("http://")  # 127.0.0.2:PORT
    by_url = crawl(main.base + "/", "--follow-host", host, "--no-sitemap")
    assert other.gets("/ext-page.html") == 1  # read, not just checked
    never = by_url[f"{other.base}/never-crawled.html"]
    assert never["status"] == 404 and never["sources"] == [f"{other.base}/ext-page.html"]
    other.clear()
    # The same from the config file, the name alone (any port) this time.
    (tmp_path / "urlsweep.toml").write_text('follow-host = ["127.0.0.2"]\nno-sitemap = true\n')
    by_url = crawl(main.base + "/", cwd=tmp_path, config=True)
    assert other.gets("/ext-page.html") == 1
    assert f"{other.base}/never-crawled.html" in by_url
    assert not main.requested("/sitemap_index.xml")


def test_a_bad_follow_host_is_a_usage_error(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    proc = subprocess.run(
        [*CMD, "--no-config", "--follow-host", "bad host:x", main.base + "/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--follow-host" in proc.stderr
    assert "Traceback" not in proc.stderr and main.log == []


def test_check_fragments_in_a_crawl(site: tuple[sites.Site, sites.Site]) -> None:
    main, _ = site
    by_url = crawl(main.base + "/", "--check-fragments", "--no-sitemap")
    assert by_url[f"{main.base}/a.html#nope"]["error"] == "missing_fragment"
    assert f"{main.base}/a.html#section" not in by_url  # the page has that id
    plain = crawl(main.base + "/", "--no-sitemap")
    assert not any("#" in url for url in plain)
