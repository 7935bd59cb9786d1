"""robots.txt for a crawl: fetched once per host as part of a check, then cached.

The stdlib parser never fetches by itself here (it would bypass timeouts, TLS options and
the loopback rule of the tests); it is fed the text we fetched.
"""

from __future__ import annotations

from urllib.robotparser import RobotFileParser

from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.steps import Wait
from urlsweep.urls import host_key

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB


class _Host:
    __slots__ = ("loaded", "loading", "parser")

    def __init__(self) -> None:
        self.loaded = False
        self.loading = False  # a check is fetching it: others wait (`probe.Wait`)
        self.parser: RobotFileParser | None = None  # None: everything allowed


def parse_robots(text: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return parser


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
    """

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent
        self._hosts: dict[str, _Host] = {}

    def _load(self, url: str, context: CheckContext) -> probe.Steps[_Host]:
        key = host_key(url)
        host = self._hosts.setdefault(key, _Host())
        while not host.loaded:
            if host.loading:  # another check is fetching it
                yield Wait(lambda: host.loaded or not host.loading)
                continue
            host.loading = True
            try:
                host.parser = yield from self._fetch(key, context)
                host.loaded = True
            finally:
                host.loading = False  # also when that check is abandoned: another takes over
        return host

    @staticmethod
    def _fetch(key: str, context: CheckContext) -> probe.Steps[RobotFileParser | None]:
        where = robots_url(key)
        _, resp = yield from probe.steps(where, where, context, max_body=MAX_ROBOTS_BYTES, host=key)
        if resp is None or resp.error is not None or resp.status is None:
            return None  # unreachable: nothing forbids the crawl (the pages will fail)
        if resp.status in (401, 403):
            return parse_robots("User-agent: *\nDisallow: /")
        if not 200 <= resp.status < 300:
            return None
        return parse_robots(resp.body.decode("utf-8", "replace"))

    def allowed(self, url: str, context: CheckContext) -> probe.Steps[bool]:
        parser = (yield from self._load(url, context)).parser
        return parser is None or parser.can_fetch(self.user_agent, url)

    def sitemaps(self, url: str, context: CheckContext) -> probe.Steps[list[str]]:
        """`Sitemap:` lines of the host's robots.txt."""
        parser = (yield from self._load(url, context)).parser
        return list((parser.site_maps() if parser is not None else None) or ())
