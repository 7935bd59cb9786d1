"""What a crawl may read: its own options (budget, depth, follow hosts) and its scope.

Apart from the crawler so that the command line and the plan can build and check them
without loading the crawl machinery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from urlsweep.links.extract.kinds import KindFilter
from urlsweep.links.remap import Remap
from urlsweep.links.robots import MAX_CRAWL_DELAY
from urlsweep.options import OptionError
from urlsweep.urls import InvalidURL, host_key, normalise

# The default budget (docs/security.md): a crawl of a site that makes up links as it is
# read (/a/N -> /a/N+1) ends. `--unbounded` (None here) lifts it.
DEFAULT_MAX_PAGES: Final = 10_000
DEFAULT_DEPTH: Final = 50


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    depth: int | None = DEFAULT_DEPTH  # None: unlimited; 0: only the start pages are read
    follow_hosts: tuple[str, ...] = ()  # more hosts to crawl ("host" or "host:port")
    robots: bool = True
    max_pages: int | None = DEFAULT_MAX_PAGES  # None: unlimited
    sitemap: bool = True  # seed from the start host's sitemaps
    check_fragments: bool = False
    kinds: KindFilter | None = None  # --include-kind/--exclude-kind
    max_crawl_delay: float = MAX_CRAWL_DELAY  # bound of an honoured Crawl-delay; 0: ignore it
    check_mail: bool = False  # look up the domains of mailto: addresses
    dns_server: tuple[str, int] | None = None
    remap: Remap | None = None  # --remap: start URLs and links rewritten before anything

    @classmethod
    def from_command(cls, params: Mapping[str, Any], check_fragments: bool) -> CrawlOptions:
        """The `crawl` command's own options, by their parameter names. A name this does not
        know is an error, never dropped: a flag must not reach the crawler as nothing."""
        unknown = set(params) - _COMMAND_NAMES
        if unknown:
            raise OptionError(f"crawl: unknown option {sorted(unknown)[0]!r}")
        unbounded = bool(params.get("unbounded"))
        depth, max_pages = params.get("depth"), params.get("max_pages")
        return cls(
            depth=DEFAULT_DEPTH if depth is None and not unbounded else depth,
            follow_hosts=tuple(params.get("follow_hosts") or ()),
            robots=not params.get("ignore_robots", False),
            max_pages=DEFAULT_MAX_PAGES if max_pages is None and not unbounded else max_pages,
            sitemap=not params.get("no_sitemap", False),
            check_fragments=check_fragments,
            max_crawl_delay=_delay_bound(params.get("max_crawl_delay")),
        )


_COMMAND_NAMES = frozenset({"depth", "follow_hosts", "ignore_robots", "max_pages", "no_sitemap"})
_COMMAND_NAMES |= {"unbounded", "max_crawl_delay"}


def _delay_bound(value: float | None) -> float:
    return MAX_CRAWL_DELAY if value is None else float(value)


class Scope:
    """The hosts a crawl reads pages of: the start hosts and `--follow-host` ones.

    A follow host is a name (any port, any scheme) or name:port; names are compared as the
    crawl's URLs are written (lower case, IDNA), so `Bücher.example` matches its URLs.
    """

    def __init__(self, follow: Sequence[str]) -> None:
        self._keys: set[str] = set()
        self._names: set[str] = set()
        self._ports: set[tuple[str, int]] = set()
        for entry in follow:
            name, port = _host_port(entry)
            if port is None:
                self._names.add(name)
            else:
                self._ports.add((name, port))

    def add_start(self, url: str) -> None:
        self._keys.add(host_key(url))

    def __contains__(self, url: str) -> bool:
        try:
            if host_key(url) in self._keys:
                return True
            parts = urlsplit(url)
        except ValueError:  # "http://[x": checked (invalid_url), never a page to read
            return False
        name = parts.hostname or ""
        if name in self._names:
            return True
        if not self._ports:
            return False
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return (name, port) in self._ports


def _host_port(entry: str) -> tuple[str, int | None]:
    """("name", port or None) of a --follow-host value, written as URLs are normalised."""
    text = entry.strip().rstrip("/")
    if "://" in text:
        text = urlsplit(text).netloc
    try:
        parts = urlsplit(normalise(f"http://{text}/"))
        port = urlsplit(f"http://{text}/").port
    except (InvalidURL, ValueError):
        raise OptionError(f"--follow-host {entry!r} is not a host name or host:port") from None
    return parts.hostname or text.lower(), port
