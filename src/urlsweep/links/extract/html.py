"""HTML link extraction with lxml: fast C parsing, forgiving of real-world markup, line numbers.

Every HTML5 and legacy attribute that holds a URL is read (the table below, documented in
docs/documents-and-crawl.md#what-is-extracted), plus `<meta>` refreshes and URL-valued
metadata, and CSS in `<style>` blocks and `style` attributes (tinycss2, see css.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable
from itertools import chain, islice
from typing import Any, Final
from urllib.parse import urljoin

import lxml.etree

from urlsweep.links.extract.css import css_links
from urlsweep.links.extract.deep import decode, parse_stdlib
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
# Reads one attribute of an element (lxml's `el.get`, a dict's `get`), None when absent.
_Get = Callable[[str], str | None]
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


def _posts(get: _Get, attr: str, form_method: Callable[[], str | None]) -> bool:
    """Whether a form (or its button) submits with POST: such an action is not a page a GET
    or HEAD can check (a 405 is no broken link), so it is left out, as LinkChecker does.
    `form_method` gives the method of the form the element is in."""
    method = get("formmethod") if attr == "formaction" else get("method")
    if method is None and attr == "formaction":
        method = form_method()
    return (method or "get").strip().lower() in ("post", "dialog")


def _wants_css(text: str) -> bool:
    low = text.lower()
    return any(h in low for h in _CSS_HINTS)


def _meta(get: _Get, line: int, out: list[Link]) -> None:
    content = get("content")
    if not content or not content.strip():
        return
    equiv = get("http-equiv")
    if equiv is not None and equiv.strip().lower() == "refresh":
        url = refresh_url(content)
        if url:
            out.append(Link(url, line, "meta", False, "refresh"))
        return
    name = (get("property") or get("name") or "").strip().lower()
    if name in _META_URLS:
        out.append(Link(content.strip(), line, "meta", False, name))


def _codebase(tag: str, get: _Get, line: int, out: list[Link]) -> None:
    """object data and object/applet archive lists, resolved against codebase (HTML 4)."""
    codebase = (get("codebase") or "").strip()
    items = [("data", (get("data") or "").strip())] if tag == "object" else []
    archive = get("archive") or ""
    items += [("archive", a) for a in archive.replace(",", " ").split()]
    for name, value in items:
        if value:
            href = urljoin(codebase, value) if codebase else value
            out.append(Link(href, line, tag, False, name))


_TAGS: Final = frozenset((*_URL_ATTRS, "meta", "base", "style"))
# Bytes fed to the parser at a time: elements that ended are dropped between chunks.
_CHUNK: Final = 64 * 1024
# libxml2 stops at 256 open elements (2048 with huge_tree) and drops the rest of the page
# silently; a document that gets near it is read by the standard library's parser instead.
_LXML_DEPTH: Final = 2000


_LINE: Final = operator.itemgetter(1)  # Link.line, without a Python call per link
# Link(...) of a NamedTuple runs a Python-level __new__: 460 ns a link against 200 ns for
# tuple.__new__, half the cost of an <a href> (the most common element by far).
_link: Final = tuple.__new__


class _Collector:
    """What a parser reports, element by element, turned into `PageLinks`; at most
    `max_links` links are kept (the rest are counted in `dropped`), anchors all."""

    def __init__(self, line_offset: int, max_links: int | None) -> None:
        self.out = PageLinks()
        self.styled: list[Link] = []  # links in style attributes, merged by line at the end
        self.offset = line_offset
        self.room = max_links

    def _cap(self, into: list[Link], start: int) -> None:
        """Of the links appended to `into` since `start`, keep what room is left (the cap is
        checked after each element, not per link: one call, none when there is no cap)."""
        assert self.room is not None
        found = len(into) - start
        if found > self.room:
            del into[start + self.room :]
            self.out.dropped += found - self.room
            self.room = 0
        else:
            self.room -= found

    def style(self, text: str | None, line: int) -> None:
        if text and _wants_css(text):
            links = self.out.links
            start = len(links)
            css_links(text, links, line + self.offset, "style")
            if self.room is not None:
                self._cap(links, start)

    def styled_attribute(self, tag: str, style: str, line: int) -> None:
        """The links of a `style` attribute (`line` has the offset applied)."""
        if _wants_css(style):
            start = len(self.styled)
            css_links(style, self.styled, line, tag, "style")
            if self.room is not None:
                self._cap(self.styled, start)

    def element(
        self,
        tag: str,
        get: _Get,
        names: Collection[str],
        line: int,
        form_method: Callable[[], str | None],
    ) -> None:
        """An element that may hold links (one of _TAGS) starts; `names` are the attributes
        it has (at least one). Only those are read: each `get` of an lxml element is a C call
        and a string built, and an element has one to three of the five to nine a tag may
        hold (reading every name the tag might have was a third of the extraction time)."""
        line += self.offset
        out = self.out
        if "id" in names and (anchor := get("id")):
            out.anchors.add(anchor)
        if tag == "a" and "name" in names and (name := get("name")):
            out.anchors.add(name)
        if "style" in names and (style := get("style")):
            self.styled_attribute(tag, style, line)
        if tag == "style":
            return
        if tag == "base":
            href = get("href") if out.base is None else None
            if href:
                out.base = href.strip()
            return
        links = out.links
        start = len(links)
        if tag == "meta":
            _meta(get, line, links)
            if self.room is not None:
                self._cap(links, start)
            return
        rel = get("rel") if "rel" in names else None
        rels = rel.lower().split() if rel else []
        kind = tag
        if tag == "link":
            if _SKIP_LINK_RELS.intersection(rels):
                return
            if not _names_document(rels, get("type")):
                kind = "link-resource"
        nofollow = "nofollow" in rels
        for attr in _URL_ATTRS[tag]:
            if attr not in names:
                continue
            value = (get(attr) or "").strip()
            if value and not (attr in _FORM_ATTRS and _posts(get, attr, form_method)):
                links.append(_link(Link, (value, line, kind, nofollow, attr)))
        srcset = _SRCSET.get(tag)
        if srcset is not None and srcset in names and (candidates := get(srcset)):
            for url in parse_srcset(candidates):
                links.append(
                    Link(url, line, "link-resource" if tag == "link" else tag, nofollow, srcset)
                )
        if tag in _PING_TAGS:
            if "ping" in names and (ping := get("ping")):
                for url in ping.split():
                    links.append(Link(url, line, tag, True, "ping"))
        elif tag in _CODEBASE_TAGS:
            _codebase(tag, get, line, links)
        if self.room is not None:
            self._cap(links, start)

    def done(self) -> PageLinks:
        if self.styled:
            self.out.links.extend(self.styled)
            self.out.links.sort(key=_LINE)
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
        text = data if isinstance(data, str) else decode(data)
        found = parse_stdlib(text, _Collector(line_offset, max_links), _TAGS, _CHUNK)
    return found


_FORMACTION_TAGS: Final = frozenset({"input", "button"})
_ELEMENT: Final = lxml.etree.Element  # iter(_ELEMENT): elements only (no comments)


def _no_form() -> str | None:
    return None


class _Elements:
    """Elements in document order, as the parser adds them to the tree, handed to the
    collector; `last` is the element that started last (it and its ancestors are open)."""

    def __init__(self, c: _Collector) -> None:
        self.c = c
        self.last: Any = None
        self.style: Any = None  # a <style> whose text is complete once anything starts after it

    def read(self, elements: Iterable[Any]) -> None:
        c = self.c
        anchors = c.out.anchors
        element = c.element
        last, style = self.last, self.style
        try:
            for el in elements:
                if style is not None:
                    c.style(style.text, style.sourceline or 1)
                    style = None
                last = el
                tag = el.tag
                if tag == "style":
                    style = el
                # One C call and no attribute proxy for an element without attributes (most
                # <p>, <li>, <div>); then only the attributes it has are read (`element`).
                names = el.keys()
                if not names:
                    continue
                if tag in _TAGS:
                    form = _form_method(el) if tag in _FORMACTION_TAGS else _no_form
                    element(tag, el.get, names, el.sourceline or 1, form)
                else:  # any other element: only its id and style count
                    if "id" in names and (anchor := el.get("id")):
                        anchors.add(anchor)
                    if "style" in names and (css := el.get("style")):
                        c.styled_attribute(tag, css, (el.sourceline or 1) + c.offset)
        finally:
            self.last, self.style = last, style

    def done(self) -> PageLinks:
        if self.style is not None:
            self.c.style(self.style.text, self.style.sourceline or 1)
        return self.c.done()


def _parse_lxml(data: bytes | str, c: _Collector) -> PageLinks | None:
    """None: too deep for libxml2 (it would have dropped the rest of the page silently).

    A document of one chunk is parsed whole: the stream would hold the same tree, and a
    plain parser is faster and freed as it goes (a pull parser is in a reference cycle that
    only the garbage collector frees, tree and all). Longer ones are streamed.
    """
    walk = _Elements(c)
    if len(data) <= _CHUNK:
        parser = lxml.etree.HTMLParser(collect_ids=False, huge_tree=True)
        try:  # the push parser the stream uses too: the same tree, the same lines
            parser.feed(data)
            root = parser.close()
        except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
            root = None  # the stream keeps what it read before the error
        if root is not None:
            # what follows `</html>` (a second page pasted after the first) is more roots
            for top in (root, *root.itersiblings(_ELEMENT)):
                walk.read(top.iter(_ELEMENT))
            deep = sum(1 for _ in walk.last.iterancestors()) >= _LXML_DEPTH
            return None if deep else walk.done()
    return _stream_lxml(data, walk)


def _stream_lxml(data: bytes | str, walk: _Elements) -> PageLinks | None:
    """Fed a chunk at a time; after each, the elements that started are read from the tree (in
    C: `iter`) and those that ended are dropped, so memory holds the open elements, not the
    document (an 8 MiB page of links made a 220 MB tree). The parser reports only where
    each top-level element starts: an event for every element made the parse a third
    slower (pages of 240 kB from bench/extract.py's generator)."""
    parser = lxml.etree.HTMLPullParser(
        events=("start",), tag="html", collect_ids=False, huge_tree=True
    )
    roots: list[Any] = []  # the top-level elements from the one `walk.last` is in
    seen = 0  # elements of roots[0] read already: after a trim, the open ones, first in order

    def read() -> bool:
        """Read the elements the parser added, then drop those that ended (all but
        walk.last and its ancestors); False: too deep."""
        nonlocal roots, seen
        roots += [el for _, el in parser.read_events() if el.getparent() is None]
        if not roots:
            return True
        first, *rest = roots
        walk.read(
            chain(islice(first.iter(_ELEMENT), seen, None), *(r.iter(_ELEMENT) for r in rest))
        )
        roots = roots[-1:]  # walk.last is in the last
        depth = 0
        node = walk.last
        parent = node.getparent()
        while parent is not None:
            depth += 1
            while node.getprevious() is not None:
                del parent[0]
            node, parent = parent, parent.getparent()
        seen = depth + 1  # walk.last and its ancestors
        return depth < _LXML_DEPTH

    try:
        for i in range(0, len(data), _CHUNK):
            parser.feed(data[i : i + _CHUNK])
            if not read():
                return None
        parser.close()
        if not read():
            return None
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        pass  # what was read so far stands
    return walk.done()


def _form_method(el: Any) -> Callable[[], str | None]:
    def method() -> str | None:
        form = next(el.iterancestors("form"), None)
        return None if form is None else form.get("method")

    return method
