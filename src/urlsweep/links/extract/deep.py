"""Documents nested deeper than libxml2 goes (2,000 elements): read with the standard
library's HTML parser, slower but without a depth limit, reporting the same elements to the
same collector as the lxml walk in html.py (which decides when this is needed)."""

from __future__ import annotations

import html.parser
import re
from collections.abc import Callable, Collection
from typing import Final, Protocol

from urlsweep.links.extract.model import PageLinks

_META_CHARSET: Final = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class Collector(Protocol):
    """What html.py's collector offers a parser."""

    out: PageLinks
    offset: int

    def element(
        self,
        tag: str,
        get: Callable[[str], str | None],
        names: Collection[str],
        line: int,
        form_method: Callable[[], str | None],
    ) -> None: ...

    def styled_attribute(self, tag: str, style: str, line: int) -> None: ...

    def style(self, text: str | None, line: int) -> None: ...

    def done(self) -> PageLinks: ...


class _StdlibParser(html.parser.HTMLParser):
    """The same elements as the lxml walk, reported to the same collector."""

    def __init__(self, c: Collector, tags: Collection[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.c = c
        self.tags = tags
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
        if tag in self.tags:
            if attrib:
                self.c.element(tag, attrib.get, attrib, line, self._form)
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


def parse_stdlib(text: str, c: Collector, tags: Collection[str], chunk: int) -> PageLinks:
    """The links of `text` through the standard library's parser (`tags`: the elements
    that may hold links), fed `chunk` characters at a time."""
    parser = _StdlibParser(c, tags)
    for i in range(0, len(text), chunk):
        parser.feed(text[i : i + chunk])
    parser.close()
    return c.done()


def decode(data: bytes) -> str:
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
