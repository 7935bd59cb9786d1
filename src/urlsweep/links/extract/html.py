"""HTML link extraction with lxml: fast C parsing, forgiving of real-world markup, line numbers.

Every HTML5 and legacy attribute that holds a URL is read (the table below, documented in
docs/documents-and-crawl.md#what-is-extracted), plus `<meta>` refreshes and URL-valued
metadata, and CSS in `<style>` blocks and `style` attributes (tinycss2, see css.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from urlsweep.links.extract.css import css_links
from urlsweep.links.extract.model import PAGE_RELS, Link, PageLinks

_SVG_HREF = ("href", "xlink:href")
# Attributes holding one URL, per tag (lxml's HTML parser lower-cases tag names).
_URL_ATTRS: dict[str, tuple[str, ...]] = {
    "a": _SVG_HREF,  # xlink:href: SVG's <a>
    "area": ("href",),
    "link": ("href",),
    "img": ("src", "longdesc", "lowsrc"),
    "script": ("src", *_SVG_HREF),
    "iframe": ("src", "longdesc"),
    "frame": ("src", "longdesc"),
    "source": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "input": ("src", "formaction"),
    "button": ("formaction",),
    "form": ("action",),
    "blockquote": ("cite",),
    "q": ("cite",),
    "del": ("cite",),
    "ins": ("cite",),
    "html": ("manifest",),
    "body": ("background",),
    "table": ("background",),
    "tr": ("background",),
    "td": ("background",),
    "th": ("background",),
    # SVG elements that reference a resource or another element
    "image": _SVG_HREF,
    "use": _SVG_HREF,
    "feimage": _SVG_HREF,
    "textpath": _SVG_HREF,
    "pattern": _SVG_HREF,
    "lineargradient": _SVG_HREF,
    "radialgradient": _SVG_HREF,
    "filter": _SVG_HREF,
    "mpath": _SVG_HREF,
    # object/applet: codebase is a link; data and archive entries are relative to it
    "object": ("codebase",),
    "applet": ("codebase",),
}
_SRCSET: dict[str, str] = {"img": "srcset", "source": "srcset", "link": "imagesrcset"}
_FORM_ATTRS = frozenset({"action", "formaction"})
_PING_TAGS = frozenset({"a", "area"})
_CODEBASE_TAGS = frozenset({"object", "applet"})
# <link rel=...> values that are hints, not resources anyone fetches as a link.
_SKIP_LINK_RELS = frozenset({"dns-prefetch", "preconnect"})
# ... and values that make a <link> a resource whatever else it says ("alternate stylesheet").
_RESOURCE_RELS = frozenset({"stylesheet", "icon", "manifest", "preload", "prefetch"})
# <meta property|name=...> whose content is a URL.
_META_URLS = frozenset(
    {
        "og:url",
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "og:video",
        "og:video:url",
        "og:video:secure_url",
        "og:audio",
        "og:audio:url",
        "og:audio:secure_url",
        "twitter:image",
        "twitter:image:src",
        "twitter:player",
        "twitter:player:stream",
        "msapplication-tileimage",
        "msapplication-config",
    }
)
_WS = " \t\n\r\f"
# CSS can hold a URL only if it says one of these (or hides it in an escape).
_CSS_HINTS = ("url", "@import", "image-set", "src", "\\")


def parse_srcset(value: str) -> list[str]:
    """URLs of a srcset, split as the HTML standard does: a URL may contain commas
    (`data:` URLs), a trailing comma ends a candidate, descriptors may hold parentheses."""
    urls: list[str] = []
    pos, n = 0, len(value)
    while True:
        while pos < n and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            return urls
        start = pos
        while pos < n and value[pos] not in _WS:
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            urls.append(url.rstrip(","))
            continue
        urls.append(url)
        depth = 0
        while pos < n:  # descriptors, up to a comma outside parentheses
            ch = value[pos]
            pos += 1
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
            elif ch == "," and depth == 0:
                break


def refresh_url(content: str) -> str | None:
    """The URL of a `<meta http-equiv="refresh" content="5; url=...">`, None for a reload."""
    s = content.lstrip(_WS)
    i = 0
    while i < len(s) and (s[i].isdigit() or s[i] == "."):
        i += 1
    s = s[i:].lstrip(_WS)
    if s[:1] in (";", ","):
        s = s[1:].lstrip(_WS)
    if s[:3].lower() == "url":
        rest = s[3:].lstrip(_WS)
        if rest[:1] == "=":
            s = rest[1:].lstrip(_WS)
    if s[:1] in ("'", '"'):
        s = s[1:].split(s[0], 1)[0]
    s = s.strip(_WS)
    return s or None


def _names_document(rel: list[str], mime: str | None) -> bool:
    """Whether a `<link rel>` names another document (a page a crawl reads), not a resource:
    `rel="next"`, `"index"`, `"search"` ...; `"alternate"` only for an HTML type (or none)."""
    if not PAGE_RELS.intersection(rel) or _RESOURCE_RELS.intersection(rel):
        return False
    if mime and "alternate" in rel:
        return mime.split(";", 1)[0].strip().lower() in ("text/html", "application/xhtml+xml")
    return True


def _posts(el: Any, attr: str) -> bool:
    """Whether a form (or its button) submits with POST: such an action is not a page a GET
    or HEAD can check (a 405 is no broken link), so it is left out, as LinkChecker does."""
    method = el.get("formmethod") if attr == "formaction" else el.get("method")
    if method is None and attr == "formaction":
        form = next(el.iterancestors("form"), None)
        method = form.get("method") if form is not None else None
    return (method or "get").strip().lower() in ("post", "dialog")


def _wants_css(text: str) -> bool:
    low = text.lower()
    return any(h in low for h in _CSS_HINTS)


def _meta(attrib: Any, line: int, out: list[Link]) -> None:
    content = attrib.get("content")
    if not content or not content.strip():
        return
    equiv = attrib.get("http-equiv")
    if equiv is not None and equiv.strip().lower() == "refresh":
        url = refresh_url(content)
        if url:
            out.append(Link(url, line, "meta", False, "refresh"))
        return
    name = (attrib.get("property") or attrib.get("name") or "").strip().lower()
    if name in _META_URLS:
        out.append(Link(content.strip(), line, "meta", False, name))


def _codebase(tag: str, attrib: Any, line: int, out: list[Link]) -> None:
    """object data and object/applet archive lists, resolved against codebase (HTML 4)."""
    codebase = (attrib.get("codebase") or "").strip()
    items = [("data", (attrib.get("data") or "").strip())] if tag == "object" else []
    archive = attrib.get("archive") or ""
    items += [("archive", a) for a in archive.replace(",", " ").split()]
    for name, value in items:
        if value:
            href = urljoin(codebase, value) if codebase else value
            out.append(Link(href, line, tag, False, name))


_PARSER = lxml.etree.HTMLParser(collect_ids=False)
_TAGS = (*_URL_ATTRS, "meta", "base", "style")
_IDS = lxml.etree.XPath("//@id", smart_strings=False)
_NAMES = lxml.etree.XPath("//a/@name", smart_strings=False)
_STYLED = lxml.etree.XPath("//*[@style]")


def parse_html(data: bytes | str, line_offset: int = 0) -> PageLinks:
    """Links, ids/names and `<base href>` of an HTML document (or fragment).

    lxml walks only the elements that can hold a link (in C); ids, names and `style`
    attributes come from XPath. Links are in document order (by line).
    """
    out = PageLinks()
    if not data.strip():
        return out
    try:
        root = lxml.etree.fromstring(data, _PARSER)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return out
    if root is None:
        return out
    links = out.links
    out.anchors.update(a for a in _IDS(root) if a)
    out.anchors.update(a for a in _NAMES(root) if a)
    el: Any
    for el in root.iter(_TAGS):
        tag = el.tag
        attrib = el.attrib
        line = (el.sourceline or 1) + line_offset
        if tag == "style":
            if el.text and _wants_css(el.text):
                css_links(el.text, links, line, "style")
            continue
        if not attrib:
            continue
        if tag == "meta":
            _meta(attrib, line, links)
            continue
        if tag == "base":
            if out.base is None and attrib.get("href"):
                out.base = attrib["href"].strip()
            continue
        rel = attrib.get("rel")
        rels = rel.lower().split() if rel else []
        kind = tag
        if tag == "link":
            if _SKIP_LINK_RELS.intersection(rels):
                continue
            if not _names_document(rels, attrib.get("type")):
                kind = "link-resource"
        nofollow = "nofollow" in rels
        for name in _URL_ATTRS[tag]:
            value = attrib.get(name)
            if name in _FORM_ATTRS and value and _posts(el, name):
                continue
            if value and value.strip():
                links.append(Link(value.strip(), line, kind, nofollow, name))
        srcset = _SRCSET.get(tag)
        if srcset is not None and attrib.get(srcset):
            for url in parse_srcset(attrib[srcset]):
                links.append(
                    Link(url, line, "link-resource" if tag == "link" else tag, nofollow, srcset)
                )
        if tag in _PING_TAGS and attrib.get("ping"):
            for url in attrib["ping"].split():
                links.append(Link(url, line, tag, True, "ping"))
        elif tag in _CODEBASE_TAGS:
            _codebase(tag, attrib, line, links)
    styled = _STYLED(root)
    if styled:
        for el in styled:
            style = el.get("style")
            if isinstance(el.tag, str) and style and _wants_css(style):
                css_links(style, links, (el.sourceline or 1) + line_offset, el.tag, "style")
        links.sort(key=lambda link: link.line)
    return out
