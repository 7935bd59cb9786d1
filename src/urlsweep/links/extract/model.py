"""What a parsed document says about links: plain data shared by every format's parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

# Link kinds that lead to another page (followed by a crawl); the rest are resources.
# "link" is a `<link>` naming a neighbouring document (rel="next", "prev", "index", ...);
# a `<link>` to a resource (stylesheet, icon, preload ...) is "link-resource".
PAGE_KINDS = frozenset({"a", "area", "iframe", "frame", "markdown", "link"})
# <link rel=...> values that name another document rather than a resource of this one.
PAGE_RELS = frozenset(
    {
        "alternate",
        "appendix",
        "author",
        "bookmark",
        "canonical",
        "chapter",
        "contents",
        "copyright",
        "first",
        "glossary",
        "help",
        "home",
        "index",
        "last",
        "license",
        "next",
        "prev",
        "previous",
        "search",
        "section",
        "start",
        "subsection",
        "toc",
        "top",
        "up",
    }
)
# (element, attribute) pairs that lead to a page although the element mostly does not.
PAGE_ATTRS = frozenset({("meta", "refresh")})
# ... and attributes of page elements that never lead to a page (`<a ping>`: beacons).
RESOURCE_ATTRS = frozenset({"ping"})


class Link(NamedTuple):
    """One reference as written in a document.

    A named tuple, not a frozen dataclass: a page makes hundreds of them, and a frozen
    dataclass's `__init__` (one `object.__setattr__` per field) was a quarter of the
    extraction time."""

    href: str
    line: int
    # tag name ("link-resource" for a <link> to a resource), "markdown", "css" in a stylesheet
    kind: str = "a"
    nofollow: bool = False
    # the attribute (or what stands for it: "refresh", "og:image", "url", "@import", "link")
    attr: str = "href"

    @property
    def is_page(self) -> bool:
        if self.kind in PAGE_KINDS:
            return self.attr not in RESOURCE_ATTRS
        return (self.kind, self.attr) in PAGE_ATTRS

    @property
    def element(self) -> str:
        return "link" if self.kind == "link-resource" else self.kind

    @property
    def via(self) -> str:
        """Where the link was found, as `element[attribute]` (the result record's `via`)."""
        return _via(self.element, self.attr)


@lru_cache(maxsize=1024)
def _via(element: str, attr: str) -> str:
    """One string per pair: a crawl keeps one per URL found, and there are few pairs."""
    return f"{element}[{attr}]"


@dataclass(slots=True)
class PageLinks:
    """Everything one document says about links: its references, anchors and base."""

    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    base: str | None = None  # <base href>, as written
    dropped: int = 0  # links found beyond the cap on links per page, not kept
