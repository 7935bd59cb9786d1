"""Fetching a remote page to read it: GET with a size cap, redirects followed, then parsed.

Runs as a check on the engine's driver (through the engine's checker hook), so parsing never
happens in the caller's thread, and each body is dropped as soon as its links and anchors are
taken.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Generator
from dataclasses import dataclass

from urlsweep.engine.work import Work
from urlsweep.links.extract import PageLinks, cut_detail, links_cap, parse_document
from urlsweep.links.graph import AnchorStore
from urlsweep.links.resolve import page_base
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.transport import Request, Response
from urlsweep.result import Result, mask_userinfo

log = logging.getLogger("urlsweep")
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
    if ctype == "text/css":
        return "css"
    return None


def read_page(
    raw: str,
    url: str,
    context: CheckContext,
    sources: tuple[str, ...] = (),
    max_body: int = MAX_PAGE_BYTES,
    anchors_only: bool = False,
) -> Generator[Request, Response, Page]:
    """Fetch and parse a page: a check (see `probe.steps`) that the engine's driver runs,
    so parsing happens on the driver thread, never in the caller's. `anchors_only`: for
    `#fragment` checks, the page's links are not kept (nor said to be cut)."""
    result, resp = yield from probe.steps(raw, url, context, sources, max_body=max_body)
    final = result.final_url or url
    if not result.ok or resp is None:
        return Page(result, None, final)
    kind = document_kind(resp)
    if kind is None:
        return Page(result, None, final)
    cap = context.options.max_page_links
    links = parse_document(resp.body, kind, max_links=0 if anchors_only else links_cap(cap))
    resp.body = b""  # the links are taken: the body is not kept while the check settles
    if links.dropped and not anchors_only:  # said on its record and on stderr (security.md)
        cut = cut_detail(links, cap)
        log.warning("urlsweep: warning: %s: %s", mask_userinfo(final), cut)
        result = dataclasses.replace(
            result, detail=f"{result.detail}; {cut}" if result.detail else cut
        )
    return Page(result, links, page_base(final, links.base).url or final)


def check_with_anchors(work: Work, context: CheckContext, anchors: AnchorStore) -> probe.Check:
    """Check `work.url` by reading it, keeping its anchors for `#fragment` links to it."""
    page = yield from read_page(work.raw, work.url, context, work.sources, anchors_only=True)
    if page.links is not None:
        anchors.put(work.raw, page.links.anchors)
    return page.result, None
