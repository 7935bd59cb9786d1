"""Sitemaps (sitemap.xml, .xml.gz, sitemap indexes), local or remote, parsed as they stream.

The XML is fed to lxml's pull parser in chunks and every `<url>` element is dropped once
read, so a 50 MB sitemap costs the memory of one entry, not of its tree.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import lxml.etree

from urlsweep.inputs import InputError, Target
from urlsweep.options import Options
from urlsweep.probe.context import CheckContext
from urlsweep.probe.steps import drive
from urlsweep.probe.transport import Request, Response, Transport
from urlsweep.urls import InvalidURL, host_key, normalise, request_url

MAX_SITEMAP_BYTES = 256 * 1024 * 1024  # decoded; the protocol's limit is 50 MB
MAX_NESTING = 3  # sitemap index -> sitemap -> ... ; deeper ones are ignored
# Sitemaps read per run, indexes and nested ones together (docs/security.md): an index tree
# that fans out (K + K^2 + K^3 files) stops here, and says so.
MAX_SITEMAPS = 1000
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One `<loc>`: a page (`url`) or another sitemap (`sitemap`), and its line."""

    kind: str
    loc: str
    line: int


class SitemapParser:
    """Feed bytes (gzip or plain XML, in any chunking), read entries as they complete."""

    def __init__(self) -> None:
        self._xml: Any = lxml.etree.XMLPullParser(
            events=("end",), resolve_entities=False, no_network=True, huge_tree=False
        )
        self._gunzip: Any = None
        self._started = False
        self._size = 0
        self.error: str | None = None

    def feed(self, chunk: bytes) -> list[Entry]:
        if self.error is not None or not chunk:
            return []
        if not self._started:
            self._started = True
            if chunk[:2] == b"\x1f\x8b":
                self._gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._gunzip is not None:
            chunk = self._gunzip.decompress(chunk, MAX_SITEMAP_BYTES - self._size)
        self._size += len(chunk)
        if self._size >= MAX_SITEMAP_BYTES:
            self.error = f"larger than {MAX_SITEMAP_BYTES >> 20} MB"
            return []
        try:
            self._xml.feed(chunk)
            return self._events()
        except lxml.etree.XMLSyntaxError as exc:
            self.error = f"not a valid sitemap: {exc}"
            return []

    def close(self) -> list[Entry]:
        if self.error is not None:
            return []
        try:
            self._xml.close()
            return self._events()
        except lxml.etree.XMLSyntaxError as exc:
            self.error = f"not a valid sitemap: {exc}"
            return []

    def _events(self) -> list[Entry]:
        out = []
        for _event, el in self._xml.read_events():
            if not isinstance(el.tag, str):
                continue
            name = lxml.etree.QName(el).localname
            if name not in ("url", "sitemap"):
                continue
            for child in el:
                if isinstance(child.tag, str) and lxml.etree.QName(child).localname == "loc":
                    loc = (child.text or "").strip()
                    if loc:
                        out.append(Entry(name, loc, child.sourceline or 0))
                    break
            # Drop what is read: the element and every finished sibling before it.
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
        return out


def read_local(path: str) -> Iterator[Entry]:
    """Entries of a local sitemap file, read in chunks."""
    parser = SitemapParser()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                yield from parser.feed(chunk)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    yield from parser.close()
    if parser.error:
        raise InputError(f"{path}: {parser.error}")


def remote_steps(
    url: str, context: CheckContext, on_entry: Callable[[Entry], None]
) -> Generator[Request, Response, str | None]:
    """Stream the sitemap at `url` into `on_entry`; return why it failed, or None. A check's
    part (the requests are yielded, as `probe.steps` does): a crawl's driver runs it, and
    `fetch_remote` blocking.

    Redirects are followed hop by hop under the same credential rule as any check: secret
    headers go only to `url`'s own host, and only if the user named it."""
    options = context.options
    origin = host_key(url)
    allowed = context.policy.credentials_to(origin)
    current = url
    for _ in range(options.max_redirects + 1):
        parser = SitemapParser()

        def sink(chunk: bytes, parser: SitemapParser = parser) -> None:
            for entry in parser.feed(chunk):
                on_entry(entry)

        key = host_key(current)
        resp = yield Request(
            request_url(current), "GET", MAX_SITEMAP_BYTES, [], allowed and key == origin, key, sink
        )
        if resp.error is not None:
            return f"{resp.error}: {resp.detail}"
        assert resp.status is not None
        location = resp.header("location")
        if 300 <= resp.status < 400 and location:
            try:
                current = normalise(urljoin(request_url(current), location))
            except InvalidURL as exc:
                return f"{exc.error}: redirect to {location!r}: {exc}"
            continue
        if not 200 <= resp.status < 300:
            return f"HTTP {resp.status}"
        for entry in parser.close():
            on_entry(entry)
        return parser.error
    return "too many redirects"


def fetch_remote(
    transport: Transport, url: str, context: CheckContext, on_entry: Callable[[Entry], None]
) -> str | None:
    """`remote_steps`, blocking on `transport` (a sitemap given as input)."""
    return drive(transport, remote_steps(url, context, on_entry))


def sitemap_targets(inputs: list[str], options: Options) -> Iterator[Target]:
    """Targets for every page listed in the given sitemaps (paths or URLs), indexes followed.

    Pages are yielded as they are parsed; nested sitemaps are visited after their index, at
    most MAX_SITEMAPS files in all. A nested sitemap must be an http(s) URL: an index never
    makes urlsweep read a local file the user did not name.
    """
    pending: list[tuple[str, str, int]] = []  # (sitemap, where it was listed, nesting)
    for arg in inputs:
        pending.append((arg, "", 0))
    seen: set[str] = set()
    context: CheckContext | None = None
    transport: Transport | None = None
    over: tuple[str, str] | None = None  # the first sitemap left unread by the budget
    unread = 0
    try:
        while pending:
            where_from, listed_at, depth = pending.pop(0)
            if where_from in seen:
                continue
            seen.add(where_from)
            entries: list[Entry] = []
            if "://" in where_from:
                if context is None or transport is None:
                    context = CheckContext.of(options)
                    transport = context.transport()
                try:
                    url = normalise(where_from)
                except InvalidURL as exc:
                    yield Target(where_from, listed_at or None, f"bad sitemap URL: {exc}")
                    continue
                error = fetch_remote(transport, url, context, entries.append)
                if error is not None:
                    yield Target(where_from, listed_at or None, f"sitemap not readable: {error}")
                stream: Iterable[Entry] = entries
            else:
                stream = read_local(where_from)
            for e in stream:
                src = where_from if "://" in where_from else f"{where_from}:{e.line}"
                if e.kind == "url":
                    yield Target(e.loc, src)
                elif depth >= MAX_NESTING:
                    continue
                elif "://" not in e.loc:
                    yield Target(e.loc, src, "a nested sitemap must be an http(s) URL")
                elif len(seen) + len(pending) < MAX_SITEMAPS:
                    pending.append((e.loc, src, depth + 1))
                else:
                    unread += 1
                    over = over or (e.loc, src)
        if over is not None:
            why = f"sitemap not read: the run's budget of {MAX_SITEMAPS} sitemaps is spent"
            yield Target(over[0], over[1], f"{why} ({unread} not read)")
    finally:
        if transport is not None:
            transport.close()
        if context is not None:
            context.close()
