"""robots.txt per RFC 9309 (Protego): the RFC's own examples, Crawl-delay pacing, and a crawl
that obeys both on a loopback site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support import sites
from urlsweep.links.crawl import Crawler, CrawlOptions
from urlsweep.links.robots import Robots, parse_robots, product_token
from urlsweep.options import Options
from urlsweep.probe.steps import Steps, Wait
from urlsweep.probe.transport import Response

# RFC 9309, 5.1 "Simple Example"
RFC_5_1 = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""
# RFC 9309, 5.2 "Longest Match"
RFC_5_2 = """\
User-Agent: foobot
Allow: /example/page/
Disallow: /example/page/disallowed.gif
"""


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        # foobot may fetch only the two files its group allows
        ("foobot", "/example/page.html", True),
        ("foobot", "/example/allowed.gif", True),
        ("foobot", "/example/other.html", False),
        ("foobot", "/", False),
        # barbot and bazbot share a group: everything but /example/page.html
        ("barbot", "/example/page.html", False),
        ("bazbot", "/example/page.html", False),
        ("barbot", "/example/other.gif", True),
        # quxbot's group is empty: everything
        ("quxbot", "/example/page.html", True),
        ("quxbot", "/a.gif", True),
        # everyone else: the * group, longest match wins
        ("otherbot", "/a.gif", False),
        ("otherbot", "/a.gif?x", True),  # $ anchors the end
        ("otherbot", "/example/x.html", False),
        ("otherbot", "/publications/report.html", True),
        ("otherbot", "/publications/figure.gif", True),  # Allow is the longer match
        ("otherbot", "/index.html", True),
    ],
)
def test_rfc_9309_simple_example(agent: str, path: str, allowed: bool) -> None:
    assert parse_robots(RFC_5_1).can_fetch(f"https://example.com{path}", agent) is allowed


def test_rfc_9309_longest_match() -> None:
    rules = parse_robots(RFC_5_2)
    assert rules.can_fetch("https://example.com/example/page/", "foobot")
    assert rules.can_fetch("https://example.com/example/page/other.gif", "foobot")
    assert not rules.can_fetch("https://example.com/example/page/disallowed.gif", "foobot")


def test_rfc_9309_agents_case_insensitive_paths_percent_encoded() -> None:
    rules = parse_robots("user-agent: FooBot\ndisallow: /foo/bar/ツ\n")
    assert not rules.can_fetch("https://example.com/foo/bar/%E3%83%84", "foobot")
    assert not rules.can_fetch("https://example.com/foo/bar/ツ", "FOOBOT")
    assert rules.can_fetch("https://example.com/foo/bar/x", "foobot")


def test_product_token() -> None:
    assert product_token("urlsweep/1.2 (+https://example.invalid)") == "urlsweep"
    assert product_token("Mozilla/5.0 (X11)") == "Mozilla"
    assert product_token("  ") == "*"


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_steps(gen: Steps[float], clock: _Clock) -> float:
    """Drive `pace` as the engine's driver does: a Wait is resumed once it is ready."""
    try:
        wait = next(gen)
        while True:
            assert isinstance(wait, Wait) and not wait.ready()
            clock.now += 0.5
            while not wait.ready():
                clock.now += 0.5
            wait = gen.send(Response())
    except StopIteration as stop:
        return float(stop.value)


def test_crawl_delay_paces_requests_bounded_by_the_option() -> None:
    clock = _Clock()
    robots = Robots("urlsweep/1", max_delay=2.5, clock=clock)
    url = "http://127.0.0.1:9/a.html"
    robots.learn(url, "User-agent: *\nCrawl-delay: 30\n")
    ctx: Any = None  # rules learnt: nothing is fetched
    assert run_steps(robots.delay(url, ctx), clock) == 2.5  # 30 s asked, bounded
    assert run_steps(robots.pace(url, ctx), clock) == 0.0  # the first request goes at once
    start = clock.now
    assert run_steps(robots.pace(url, ctx), clock) == 2.5  # waits its turn
    assert clock.now >= start + 2.5
    other = "http://127.0.0.2:9/"
    robots.learn(other, "User-agent: urlsweep\nRequest-rate: 1/4s\nUser-agent: *\nCrawl-delay: 1\n")
    assert run_steps(robots.delay(other, ctx), clock) == 2.5  # its own group, bounded
    ignoring = Robots("urlsweep/1", max_delay=0)
    ignoring.learn(url, "User-agent: *\nCrawl-delay: 30\n")
    assert run_steps(ignoring.pace(url, ctx), clock) == 0.0


@pytest.fixture(scope="module")
def slow_site() -> Iterator[sites.Site]:
    site = sites.Site()
    site.routes["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        b"User-agent: *\nCrawl-delay: 30\nDisallow: /private\n",
    )
    site.routes["/"] = sites.html(sites.page("/a.html", "/b.html", "/private/x.html"))
    site.routes["/a.html"] = sites.html(sites.page("/"))
    site.routes["/b.html"] = sites.html(sites.page("/a.html"))
    yield site
    site.close()


def test_crawl_obeys_robots_and_its_delay(slow_site: sites.Site) -> None:
    crawler = Crawler(
        [slow_site.base + "/"],
        Options(timeout=10, workers=4),
        CrawlOptions(sitemap=False, max_crawl_delay=0.2),
    )
    got = {r.url: r for r in crawler}
    assert got[slow_site.base + "/private/x.html"].outcome == "skipped"
    assert got[slow_site.base + "/a.html"].ok and got[slow_site.base + "/b.html"].ok
    assert slow_site.gets("/private/x.html") == 0
    # the host's pace was kept: each request reserved a slot 0.2 s after the one before
    assert crawler.robots.max_delay == 0.2
    host = next(iter(crawler.robots._hosts.values()))
    assert host.delay == 0.2 and host.next_at > 0


def test_crawl_command_takes_max_crawl_delay(slow_site: sites.Site) -> None:
    import subprocess
    import sys

    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "urlsweep",
            "crawl",
            slow_site.base + "/",
            "--no-store",
            "--max-crawl-delay",
            "0.1",
            "--no-sitemap",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "urlsweep",
            "crawl",
            slow_site.base + "/",
            "--no-store",
            "--max-crawl-delay",
            "-1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "max-crawl-delay" in bad.stderr
