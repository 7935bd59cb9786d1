"""Link extraction from documents: what a page links to, and which anchors it offers.

Parsers return plain data (`PageLinks`) and never resolve or check anything: resolving needs
to know where the document lives (a file, a page URL, a `<base href>`), which is the caller's.
"""

from __future__ import annotations

from urlsweep.links.extract.model import PAGE_KINDS, Link, PageLinks

__all__ = ["PAGE_KINDS", "Link", "PageLinks", "parse_document"]


def parse_document(data: bytes, kind: str, bare_urls: bool = False) -> PageLinks:
    """Dispatch on `kind` ("html", "markdown" or "css")."""
    if kind == "css":
        from urlsweep.links.extract.css import parse_css

        return parse_css(data)
    if kind == "markdown":
        from urlsweep.links.extract.markdown import parse_markdown

        return parse_markdown(data.decode("utf-8", "replace"), bare_urls=bare_urls)
    from urlsweep.links.extract.html import parse_html

    return parse_html(data)
