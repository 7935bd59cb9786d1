"""Link extraction from documents: what a page links to, and which anchors it offers.

Parsers return plain data (`PageLinks`) and never resolve or check anything: resolving needs
to know where the document lives (a file, a page URL, a `<base href>`), which is the caller's.
"""

from __future__ import annotations

from urlsweep.links.extract.model import PAGE_KINDS, Link, PageLinks

__all__ = ["PAGE_KINDS", "Link", "PageLinks", "cut_detail", "links_cap", "parse_document"]


def parse_document(
    data: bytes, kind: str, bare_urls: bool = False, max_links: int | None = None
) -> PageLinks:
    """Dispatch on `kind` ("html", "markdown" or "css"). At most `max_links` links are
    kept (None: all); `dropped` counts the rest."""
    if kind == "html":
        from urlsweep.links.extract.html import parse_html

        return parse_html(data, max_links=max_links)  # capped as it streams
    if kind == "css":
        from urlsweep.links.extract.css import parse_css

        page = parse_css(data)
    else:
        from urlsweep.links.extract.markdown import parse_markdown

        page = parse_markdown(data.decode("utf-8", "replace"), bare_urls=bare_urls)
    if max_links is not None and len(page.links) > max_links:
        page.dropped = len(page.links) - max_links
        del page.links[max_links:]
    return page


def links_cap(max_page_links: int) -> int | None:
    """The option's value as `parse_document` takes it (0: no cap)."""
    return max_page_links or None


def cut_detail(page: PageLinks, max_page_links: int) -> str:
    """What a page's record says when its links were cut at the cap."""
    return (
        f"{page.dropped} more links not checked: only the first {max_page_links} links of a page "
        "or document are taken (--max-page-links)"
    )
