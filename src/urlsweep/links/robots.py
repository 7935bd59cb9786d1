"""robots.txt for a crawl (RFC 9309, read by Protego): fetched once per host as part of a
check, then cached; its `Crawl-delay` paces the crawl's requests to that host.

Protego matches as the RFC says: the group of the longest matching user-agent product token
(else `*`), the most specific (longest) rule wins, `Allow` on a tie, `*` and `$` wildcards,
paths compared percent-encoded. The file is fetched through the run's own checks (timeouts,
TLS options, host limits, the loopback rule of the tests), never by the parser.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from protego import Protego

from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.steps import Wait
from urlsweep.urls import host_key

MAX_ROBOTS_BYTES = 512 * 1024  # the RFC asks crawlers to read at least 500 KiB
MAX_CRAWL_DELAY = 10.0  # default bound of an honoured Crawl-delay, seconds


class _Host:
    __slots__ = ("delay", "loaded", "loading", "next_at", "parser")

    def __init__(self) -> None:
        self.loaded = False
        self.loading = False  # a check is fetching it: others wait (`probe.Wait`)
        self.parser: Protego | None = None  # None: everything allowed
        self.delay = 0.0  # seconds between requests, from Crawl-delay (bounded)
        self.next_at = 0.0  # clock time the next request to the host may start


def parse_robots(text: str) -> Protego:
    return Protego.parse(text)


def product_token(user_agent: str) -> str:
    """What robots.txt groups are matched against: `urlsweep` of `urlsweep/1.0 (+...)`."""
    words = user_agent.split()
    return words[0].split("/", 1)[0] if words else "*"


def robots_url(key: str) -> str:
    """The robots.txt of the host with host key `key` ("scheme://host:port")."""
    scheme, _, hostport = key.partition("://")
    host, _, port = hostport.rpartition(":")
    default = "443" if scheme == "https" else "80"
    return f"{scheme}://{host}" + ("" if port == default else f":{port}") + "/robots.txt"


class Robots:
    """Per-host robots.txt rules; the first check to ask about a host fetches its file.

    Its methods are parts of checks (generators run by the engine's driver thread), so the
    fetch goes through the run's host limits like any request, and no lock is needed.
    `max_delay` bounds an honoured Crawl-delay (0: ignore it): a site asking for 60 s
    between requests would make a crawl of 1,000 pages last 17 hours.
    """

    def __init__(
        self,
        user_agent: str,
        max_delay: float = MAX_CRAWL_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = product_token(user_agent)
        self.max_delay = max_delay
        self._clock = clock
        self._hosts: dict[str, _Host] = {}

    def learn(self, url: str, text: str | None) -> None:
        """Take `text` as the robots.txt of `url`'s host (None: there is none), unfetched."""
        host = self._hosts.setdefault(host_key(url), _Host())
        self._set(host, None if text is None else parse_robots(text))

    def _set(self, host: _Host, parser: Protego | None) -> None:
        host.parser = parser
        host.loaded = True
        if parser is not None and self.max_delay > 0:
            delay = parser.crawl_delay(self.token) or 0.0
            rate = parser.request_rate(self.token)
            if rate is not None and rate.requests > 0:
                delay = max(delay, rate.seconds / rate.requests)
            host.delay = min(float(delay), self.max_delay)

    def _load(self, url: str, context: CheckContext) -> probe.Steps[_Host]:
        key = host_key(url)
        host = self._hosts.setdefault(key, _Host())
        while not host.loaded:
            if host.loading:  # another check is fetching it
                yield Wait(lambda: host.loaded or not host.loading)
                continue
            host.loading = True
            try:
                self._set(host, (yield from self._fetch(key, context)))
            finally:
                host.loading = False  # also when that check is abandoned: another takes over
        return host

    @staticmethod
    def _fetch(key: str, context: CheckContext) -> probe.Steps[Protego | None]:
        where = robots_url(key)
        _, resp = yield from probe.steps(where, where, context, max_body=MAX_ROBOTS_BYTES, host=key)
        if resp is None or resp.error is not None or resp.status is None:
            return None  # unreachable: nothing forbids the crawl (the pages will fail)
        if resp.status in (401, 403):
            # RFC 9309 2.3.1.3 reads any 4xx as "no rules"; a server that refuses robots.txt
            # itself is taken at its word here, as LinkChecker does.
            return parse_robots("User-agent: *\nDisallow: /")
        if not 200 <= resp.status < 300:
            return None
        return parse_robots(resp.body.decode("utf-8", "replace"))

    def allowed(self, url: str, context: CheckContext) -> probe.Steps[bool]:
        parser = (yield from self._load(url, context)).parser
        return parser is None or parser.can_fetch(url, self.token)

    def delay(self, url: str, context: CheckContext) -> probe.Steps[float]:
        """The honoured Crawl-delay of `url`'s host, seconds (0: none)."""
        return (yield from self._load(url, context)).delay

    def pace(self, url: str, context: CheckContext) -> probe.Steps[float]:
        """Wait for `url`'s host's turn under its Crawl-delay; the seconds reserved.

        Each check takes the next slot (start times `delay` apart, in the order they ask)
        and waits parked in the driver, holding its host slot, until its time comes.
        """
        host = yield from self._load(url, context)
        if host.delay <= 0:
            return 0.0
        now = self._clock()
        start = max(now, host.next_at)
        host.next_at = start + host.delay
        if start > now:
            yield Wait(lambda: self._clock() >= start)
        return start - now

    def sitemaps(self, url: str, context: CheckContext) -> probe.Steps[list[str]]:
        """`Sitemap:` lines of the host's robots.txt."""
        parser = (yield from self._load(url, context)).parser
        return list(parser.sitemaps) if parser is not None else []
