"""What a parsed document says about links: plain data shared by every format's parser."""

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
