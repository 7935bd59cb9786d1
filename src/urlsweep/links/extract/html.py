"""HTML link extraction with lxml: fast C parsing, forgiving of real-world markup, line numbers."""

from __future__ import annotations

from typing import Any

import lxml.etree
import lxml.html

from urlsweep.links.extract.model import PAGE_RELS, Link, PageLinks

# Attributes holding one URL, per tag.
_URL_ATTRS: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "img": ("src",),
    "script": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "input": ("src",),
}
_SRCSET_TAGS = frozenset({"img", "source"})
# <link rel=...> values that are hints, not resources anyone fetches as a link.
_SKIP_LINK_RELS = frozenset({"dns-prefetch", "preconnect"})
# ... and values that make a <link> a resource whatever else it says ("alternate stylesheet").
_RESOURCE_RELS = frozenset({"stylesheet", "icon", "manifest", "preload", "prefetch"})


def _names_document(rel: list[str], mime: str | None) -> bool:
    """Whether a `<link rel>` names another document (a page a crawl reads), not a resource:
    `rel="next"`, `"index"`, `"search"` ...; `"alternate"` only for an HTML type (or none)."""
    if not PAGE_RELS.intersection(rel) or _RESOURCE_RELS.intersection(rel):
        return False
    if mime and "alternate" in rel:
        return mime.split(";", 1)[0].strip().lower() in ("text/html", "application/xhtml+xml")
    return True


def parse_srcset(value: str) -> list[str]:
    """URLs of a srcset: comma-separated candidates, each a URL and an optional descriptor."""
    urls = []
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            urls.append(parts[0])
    return urls


def parse_html(data: bytes | str, line_offset: int = 0) -> PageLinks:
    """Links, ids/names and `<base href>` of an HTML document (or fragment)."""
    out = PageLinks()
    if not data.strip():
        return out
    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError):
        return out
    el: Any
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        attrib = el.attrib
        line = (el.sourceline or 1) + line_offset
        ident = attrib.get("id")
        if ident:
            out.anchors.add(ident)
        if tag == "a" and attrib.get("name"):
            out.anchors.add(attrib["name"])
        if tag == "base":
            if out.base is None and attrib.get("href"):
                out.base = attrib["href"].strip()
            continue
        names = _URL_ATTRS.get(tag)
        if names is None:
            continue
        rel = (attrib.get("rel") or "").lower().split()
        if tag == "link" and _SKIP_LINK_RELS.intersection(rel):
            continue
        nofollow = "nofollow" in rel
        kind = tag
        if tag == "link" and not _names_document(rel, attrib.get("type")):
            kind = "link-resource"
        for name in names:
            value = attrib.get(name)
            if value and value.strip():
                out.links.append(Link(value.strip(), line, kind, nofollow))
        if tag in _SRCSET_TAGS and attrib.get("srcset"):
            for url in parse_srcset(attrib["srcset"]):
                out.links.append(Link(url, line, tag, nofollow))
    return out
