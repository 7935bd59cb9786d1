"""Fetching a remote page to read it: GET with a size cap, redirects followed, then parsed.

Runs in engine workers (through the engine's checker hook), so parsing never happens in the
caller's thread, and each body is dropped as soon as its links and anchors are taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from urlsweep.links.extract import PageLinks, parse_document
from urlsweep.links.graph import AnchorStore
from urlsweep.links.resolve import page_base
from urlsweep.options import Options
from urlsweep.probe import steps as probe
from urlsweep.probe.transport import Response, Transport
from urlsweep.result import Result

MAX_PAGE_BYTES = 8 * 1024 * 1024  # decoded; a bigger page is parsed as far as it got


@dataclass(slots=True)
class Page:
    """A fetched page: its record, and what it links to (None if it is not a document)."""

    result: Result
    links: PageLinks | None
    base: str  # what relative links on the page resolve against (its <base href> applied)


def document_kind(resp: Response) -> str | None:
    ctype = (resp.header("content-type") or "").split(";", 1)[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if ctype in ("text/markdown", "text/x-markdown"):
        return "markdown"
    return None


def fetch_page(
    transport: Transport,
    raw: str,
    url: str,
    options: Options,
    sources: tuple[str, ...] = (),
    max_body: int = MAX_PAGE_BYTES,
) -> Page:
    result, resp = probe.walk(transport, raw, url, options, sources, max_body=max_body)
    final = result.final_url or url
    if not result.ok or resp is None:
        return Page(result, None, final)
    kind = document_kind(resp)
    if kind is None:
        return Page(result, None, final)
    links = parse_document(resp.body, kind)
    return Page(result, links, page_base(final, links.base).url or final)


def check_with_anchors(
    transport: Transport,
    raw: str,
    url: str,
    options: Options,
    sources: tuple[str, ...],
    anchors: AnchorStore,
) -> Result:
    """Check `url` by reading it, keeping its anchors for `#fragment` links to it."""
    page = fetch_page(transport, raw, url, options, sources)
    if page.links is not None:
        anchors.put(raw, page.links.anchors)
    return page.result
