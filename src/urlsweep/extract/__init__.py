"""Link extraction from documents: what a page links to, and which anchors it offers.

Parsers return plain data (`PageLinks`) and never resolve or check anything: resolving needs
to know where the document lives (a file, a page URL, a `<base href>`), which is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Link kinds that lead to another page (followed by a crawl); the rest are resources.
PAGE_KINDS = frozenset({"a", "area", "iframe", "frame", "markdown"})


@dataclass(frozen=True, slots=True)
class Link:
    """One reference as written in a document."""

    href: str
    line: int
    kind: str = "a"  # tag name, or "markdown" for Markdown link syntax
    nofollow: bool = False

    @property
    def is_page(self) -> bool:
        return self.kind in PAGE_KINDS


@dataclass(slots=True)
class PageLinks:
    """Everything one document says about links: its references, anchors and base."""

    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    base: str | None = None  # <base href>, as written


def parse_document(data: bytes, kind: str, bare_urls: bool = False) -> PageLinks:
    """Dispatch on `kind` ("html" or "markdown")."""
    if kind == "markdown":
        from .markdown import parse_markdown

        return parse_markdown(data.decode("utf-8", "replace"), bare_urls=bare_urls)
    from .html import parse_html

    return parse_html(data)
