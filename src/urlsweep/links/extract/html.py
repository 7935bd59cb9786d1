"""HTML link extraction with lxml: fast C parsing, forgiving of real-world markup, line numbers.

Every HTML5 and legacy attribute that holds a URL is read (the table below, documented in
docs/documents-and-crawl.md#what-is-extracted), plus `<meta>` refreshes and URL-valued
metadata, and CSS in `<style>` blocks and `style` attributes (tinycss2, see css.py).
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urljoin

import lxml.etree

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


def _posts(attrib: Any, attr: str, form_method: Callable[[], str | None]) -> bool:
    """Whether a form (or its button) submits with POST: such an action is not a page a GET
    or HEAD can check (a 405 is no broken link), so it is left out, as LinkChecker does.
    `form_method` gives the method of the form the element is in."""
    method = attrib.get("formmethod") if attr == "formaction" else attrib.get("method")
    if method is None and attr == "formaction":
        method = form_method()
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


_TAGS: Final = frozenset((*_URL_ATTRS, "meta", "base", "style"))
# Bytes fed to the parser at a time: elements that ended are dropped between chunks, so the
# tree in memory is the open elements, not the document (an 8 MiB page of links made a
# 220 MB tree).
_CHUNK: Final = 64 * 1024
# libxml2 stops at 256 open elements (2048 with huge_tree) and drops the rest of the page
# silently; a document that gets near it is read by the standard library's parser instead.
_LXML_DEPTH: Final = 2000
_META_CHARSET: Final = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class _Collector:
    """What a parser reports, element by element, turned into `PageLinks`; at most
    `max_links` links are kept (the rest are counted in `dropped`), anchors all."""

    def __init__(self, line_offset: int, max_links: int | None) -> None:
        self.out = PageLinks()
        self.styled: list[Link] = []  # links in style attributes, merged by line at the end
        self.offset = line_offset
        self.room = max_links

    def _keep(self, found: list[Link], into: list[Link]) -> None:
        if self.room is None:
            into.extend(found)
            return
        taken = found[: self.room]
        into.extend(taken)
        self.room -= len(taken)
        self.out.dropped += len(found) - len(taken)

    def style(self, text: str | None, line: int) -> None:
        if text and _wants_css(text):
            found: list[Link] = []
            css_links(text, found, line + self.offset, "style")
            self._keep(found, self.out.links)

    def styled_attribute(self, tag: str, style: str, line: int) -> None:
        """The links of a `style` attribute (`line` has the offset applied)."""
        if _wants_css(style):
            styled: list[Link] = []
            css_links(style, styled, line, tag, "style")
            self._keep(styled, self.styled)

    def element(
        self, tag: str, attrib: Any, line: int, form_method: Callable[[], str | None]
    ) -> None:
        """An element that may hold links (one of _TAGS) starts."""
        if not attrib:
            return
        line += self.offset
        out = self.out
        anchor = attrib.get("id")
        if anchor:
            out.anchors.add(anchor)
        if tag == "a":
            name = attrib.get("name")
            if name:
                out.anchors.add(name)
        style = attrib.get("style")
        if style:
            self.styled_attribute(tag, style, line)
        if tag == "style":
            return
        if tag == "base":
            if out.base is None and attrib.get("href"):
                out.base = attrib["href"].strip()
            return
        found: list[Link] = []
        if tag == "meta":
            _meta(attrib, line, found)
            self._keep(found, out.links)
            return
        rel = attrib.get("rel")
        rels = rel.lower().split() if rel else []
        kind = tag
        if tag == "link":
            if _SKIP_LINK_RELS.intersection(rels):
                return
            if not _names_document(rels, attrib.get("type")):
                kind = "link-resource"
        nofollow = "nofollow" in rels
        for name in _URL_ATTRS[tag]:
            value = attrib.get(name)
            if name in _FORM_ATTRS and value and _posts(attrib, name, form_method):
                continue
            if value and value.strip():
                found.append(Link(value.strip(), line, kind, nofollow, name))
        srcset = _SRCSET.get(tag)
        if srcset is not None and attrib.get(srcset):
            for url in parse_srcset(attrib[srcset]):
                found.append(
                    Link(url, line, "link-resource" if tag == "link" else tag, nofollow, srcset)
                )
        if tag in _PING_TAGS and attrib.get("ping"):
            for url in attrib["ping"].split():
                found.append(Link(url, line, tag, True, "ping"))
        elif tag in _CODEBASE_TAGS:
            _codebase(tag, attrib, line, found)
        self._keep(found, out.links)

    def done(self) -> PageLinks:
        if self.styled:
            self.out.links.extend(self.styled)
            self.out.links.sort(key=lambda link: link.line)
        return self.out


def parse_html(data: bytes | str, line_offset: int = 0, max_links: int | None = None) -> PageLinks:
    """Links, ids/names and `<base href>` of an HTML document (or fragment).

    lxml parses (in C) as a stream: each element's links are taken as it starts, and the
    elements that ended are dropped, so memory holds the open elements only, whatever the
    page. Past `max_links` links, the rest are counted (`dropped`), not kept; ids and names
    are all taken (for `#fragment` checks). A document nested deeper than libxml2 goes is
    read with the standard library's parser (slower, no depth limit). Links are in
    document order (by line).
    """
    if not data.strip():
        return PageLinks()
    found = _parse_lxml(data, _Collector(line_offset, max_links))
    if found is None:  # too deep for libxml2: it would have dropped the rest silently
        text = data if isinstance(data, str) else _decode(data)
        found = _parse_stdlib(text, _Collector(line_offset, max_links))
    return found


_FORMACTION_TAGS: Final = frozenset({"input", "button"})


def _no_form() -> str | None:
    return None


def _parse_lxml(data: bytes | str, c: _Collector) -> PageLinks | None:
    parser = lxml.etree.HTMLPullParser(events=("start",), collect_ids=False, huge_tree=True)
    last: Any = None  # the element that started last: it and its ancestors are open
    style: Any = None  # a <style> whose text is complete once anything starts after it

    anchors = c.out.anchors

    def drain() -> None:
        nonlocal last, style
        el: Any
        for _, el in parser.read_events():
            if style is not None:
                c.style(style.text, style.sourceline or 1)
                style = None
            tag = el.tag
            if tag in _TAGS:
                if tag == "style":
                    style = el
                tag_form = _form_method(el) if tag in _FORMACTION_TAGS else _no_form
                c.element(tag, el.attrib, el.sourceline or 1, tag_form)
            elif isinstance(tag, str):  # any other element: only its id and style count
                anchor = el.get("id")
                if anchor:
                    anchors.add(anchor)
                css = el.get("style")
                if css:
                    c.styled_attribute(tag, css, (el.sourceline or 1) + c.offset)
            last = el

    def trim() -> bool:
        """Drop the elements that ended (all but the open ones); False: too deep."""
        if last is None:
            return True
        depth = 0
        node = last
        parent = node.getparent()
        while parent is not None:
            depth += 1
            while node.getprevious() is not None:
                del parent[0]
            node, parent = parent, parent.getparent()
        return depth < _LXML_DEPTH

    try:
        for i in range(0, len(data), _CHUNK):
            parser.feed(data[i : i + _CHUNK])
            drain()
            if not trim():
                return None  # libxml2 would have dropped the rest of the page silently
        parser.close()
        drain()
        if not trim():
            return None
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        pass  # what was read so far stands
    if style is not None:
        c.style(style.text, style.sourceline or 1)
    return c.done()


def _form_method(el: Any) -> Callable[[], str | None]:
    def method() -> str | None:
        form = next(el.iterancestors("form"), None)
        return None if form is None else form.get("method")

    return method


class _StdlibParser(html.parser.HTMLParser):
    """For documents too deep for libxml2: the same elements, reported to the collector."""

    def __init__(self, c: _Collector) -> None:
        super().__init__(convert_charrefs=True)
        self.c = c
        self.forms: list[str | None] = []  # the methods of the forms the parser is in
        self.in_style: list[str] | None = None
        self.style_line = 1

    def _form(self) -> str | None:
        return self.forms[-1] if self.forms else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attrib: dict[str, str] = {}
        for name, value in attrs:
            attrib.setdefault(name, value or "")  # the first of a repeated attribute counts
        line = self.getpos()[0]
        if tag in _TAGS:
            self.c.element(tag, attrib, line, self._form)
        else:
            if attrib.get("id"):
                self.c.out.anchors.add(attrib["id"])
            if attrib.get("style"):
                self.c.styled_attribute(tag, attrib["style"], line + self.c.offset)
        if tag == "form":
            self.forms.append(attrib.get("method"))
        elif tag == "style":
            self.in_style, self.style_line = [], line

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.in_style is not None:
            self.in_style.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.forms:
            self.forms.pop()
        elif tag == "style" and self.in_style is not None:
            self.c.style("".join(self.in_style), self.style_line)
            self.in_style = None


def _parse_stdlib(text: str, c: _Collector) -> PageLinks:
    parser = _StdlibParser(c)
    for i in range(0, len(text), _CHUNK):
        parser.feed(text[i : i + _CHUNK])
    parser.close()
    return c.done()


def _decode(data: bytes) -> str:
    """Bytes as libxml2 reads them: a BOM, else a `<meta charset>` near the start, else
    ISO-8859-1 (its default, and what every byte decodes to)."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    m = _META_CHARSET.search(data[:4096])
    if m is not None:
        try:
            return data.decode(m.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    return data.decode("latin-1")
