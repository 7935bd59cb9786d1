"""The link graph of a run: every place a URL was seen, and the anchors of fetched pages.

Shared by the threads that parse documents, so every method takes the lock. Memory is one
entry per distinct URL plus one per (URL, source) sighting: bodies are never kept.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from urlsweep import result as R
from urlsweep.result import Result
from urlsweep.urls import InvalidURL, normalise

# Fragments every page has: HTML scrolls to the top for these.
_ALWAYS_THERE = frozenset({"", "top"})


def url_key(absolute: str) -> str | None:
    """The normalised URL a link is checked as (fragment dropped); None if not http(s).

    An invalid URL is its own key: the engine says why.
    """
    found = keyed(absolute)
    return None if found is None else found[0]


@lru_cache(maxsize=32768)
def keyed(absolute: str) -> tuple[str, bool] | None:
    """`url_key`, and whether the URL is valid.

    Cached: a site's navigation repeats the same links on every page, and normalising is
    the costliest step of reading a page.
    """
    absolute = absolute.partition("#")[0]
    try:
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:  # "http://[x": its own key, the engine reports it invalid_url
        scheme = absolute.partition(":")[0].lower()
    if scheme not in ("http", "https"):
        return None
    try:
        return normalise(absolute), True
    except InvalidURL:
        return absolute, False


class LinkIndex:
    """url -> sources (ordered, unique), and url -> fragment -> sources."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, dict[str, None]] = {}
        self._fragments: dict[str, dict[str, dict[str, None]]] = {}
        self._via: dict[str, dict[str, None]] = {}

    def add(
        self, url: str, source: str | None, fragment: str | None = None, via: str | None = None
    ) -> bool:
        """Record a sighting (None: seen, but not in any document); True if `url` is new.

        `via` is the `element[attribute]` the link was found in."""
        with self._lock:
            known = self._sources.get(url)
            new = known is None
            if known is None:
                known = self._sources[url] = {}
            if source is not None:
                known[source] = None
            if via is not None:
                self._via.setdefault(url, {})[via] = None
            if fragment is not None and source is not None:
                frags = self._fragments.setdefault(url, {})
                frags.setdefault(fragment, {})[source] = None
            return new

    def __contains__(self, url: object) -> bool:
        with self._lock:
            return url in self._sources

    def __len__(self) -> int:
        with self._lock:
            return len(self._sources)

    def urls(self) -> Iterator[str]:
        with self._lock:
            urls = list(self._sources)
        return iter(urls)

    def sources(self, url: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._sources.get(url, ()))

    def via(self, url: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._via.get(url, ()))

    def fragments(self, url: str) -> dict[str, tuple[str, ...]]:
        with self._lock:
            return {f: tuple(s) for f, s in self._fragments.get(url, {}).items()}


class AnchorStore:
    """Anchors (ids, names, heading slugs) of the pages that were fetched and parsed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anchors: dict[str, frozenset[str]] = {}

    def put(self, url: str, anchors: set[str] | frozenset[str]) -> None:
        with self._lock:
            self._anchors[url] = frozenset(anchors)

    def get(self, url: str) -> frozenset[str] | None:
        """None when the page was not parsed (not HTML, not fetched, broken)."""
        with self._lock:
            return self._anchors.get(url)


def missing_fragments(
    page: Result, fragments: dict[str, tuple[str, ...]], anchors: frozenset[str] | None
) -> list[Result]:
    """One broken record per `#fragment` the page does not have.

    Nothing when the page itself is not ok (its own record says so) or was not parsed.
    """
    if not page.ok or anchors is None:
        return []
    out = []
    for frag, sources in fragments.items():
        if frag in _ALWAYS_THERE or frag in anchors or unquote(frag) in anchors:
            continue
        out.append(
            dataclasses.replace(
                page,
                url=f"{page.url}#{frag}",
                ok=False,
                outcome=R.BROKEN,
                error=R.MISSING_FRAGMENT,
                detail=f"no anchor #{unquote(frag)} in the page",
                sources=sources,
            )
        )
    return out


def with_sources(result: Result, index: LinkIndex) -> Result:
    """The record with every place its URL was seen (and in which element and attribute),
    when the index knows it."""
    sources = index.sources(result.url)
    if not sources:
        return result
    return dataclasses.replace(result, sources=sources, via=index.via(result.url))
