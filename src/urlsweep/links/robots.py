"""robots.txt for a crawl: fetched once per host through our own transport, then cached.

The stdlib parser never fetches by itself here (it would bypass timeouts, TLS options and
the loopback rule of the tests); it is fed the text we fetched.
"""

from __future__ import annotations

import threading
from urllib.robotparser import RobotFileParser

from urlsweep.probe.policy import policy_for
from urlsweep.probe.transport import Transport
from urlsweep.urls import host_key

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB


class _Host:
    __slots__ = ("loaded", "lock", "parser")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded = False
        self.parser: RobotFileParser | None = None  # None: everything allowed


def parse_robots(text: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return parser


class Robots:
    """Per-host robots.txt rules; the first thread to ask about a host fetches its file."""

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}

    def _load(self, transport: Transport, url: str) -> _Host:
        key = host_key(url)
        with self._lock:
            host = self._hosts.setdefault(key, _Host())
        with host.lock:
            if not host.loaded:
                host.parser = self._fetch(transport, key)
                host.loaded = True
        return host

    @staticmethod
    def _fetch(transport: Transport, key: str) -> RobotFileParser | None:
        scheme, _, hostport = key.partition("://")
        port = hostport.rsplit(":", 1)[1]
        host = hostport.rsplit(":", 1)[0]
        default = "443" if scheme == "https" else "80"
        origin = f"{scheme}://{host}" + ("" if port == default else f":{port}")
        resp = transport.request(
            f"{origin}/robots.txt",
            "GET",
            max_body=MAX_ROBOTS_BYTES,
            credentials=policy_for(transport.options).credentials_to(key),
            host=key,
        )
        if resp.error is not None or resp.status is None:
            return None  # unreachable: nothing forbids the crawl (the pages will fail)
        if resp.status in (401, 403):
            return parse_robots("User-agent: *\nDisallow: /")
        if not 200 <= resp.status < 300:
            return None
        return parse_robots(resp.body.decode("utf-8", "replace"))

    def allowed(self, transport: Transport, url: str) -> bool:
        parser = self._load(transport, url).parser
        return parser is None or parser.can_fetch(self.user_agent, url)

    def sitemaps(self, transport: Transport, url: str) -> list[str]:
        """`Sitemap:` lines of the host's robots.txt."""
        parser = self._load(transport, url).parser
        return list((parser.site_maps() if parser is not None else None) or ())
